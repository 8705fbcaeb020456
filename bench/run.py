#!/usr/bin/env python3
"""Benchmark pypi-template against a floor, as ratios measured in the same run.

The floor is bench/floor: a 5-file hatchling template (pyproject.toml, README, LICENSE, one
__init__.py, the answers file). Both templates go through the same steps with the same copier;
A and B runs alternate (ABBA...) so drift on a noisy machine hits both sides.

    uv run --group test python bench/run.py                  # everything
    uv run --group test python bench/run.py --only render    # one benchmark
    uv run --group test python bench/run.py --rounds 3 --only verified,update
    uv run --group test python bench/run.py --only skeletons  # why render cannot reach 1.15
    uv run --group test python bench/run.py --only fleet      # a template release across 10 projects
    uv run --group test python bench/run.py --only fleet-status  # fleet/status.py over 50 and 200 repositories
    uv run --group test python bench/run.py --only anchors --rounds 7 \
        --anchors sp=/work/anchors/sp pyos=/work/anchors/pyos     # other templates, from local clones

The anchors are other project templates, cloned wherever you like (nothing of theirs is kept here):
each NAME=PATH renders with the answers bench/anchors.yml gives NAME, in rotating rounds with this
template and the floor, all through the same copier. A shared machine moves seconds by more than a
small change saves: --instructions adds each render's instruction count (valgrind), which it does not.

Goals: render <= 1.15 and ahead of every anchor, verified (hatchling) <= 1.2, update <= 2.5; suite: full <= 240 s and
quick (-m "not slow") <= 60 s of wall time on the 2-core CI machine.
Results are printed as a table and saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ROOT / "bench" / "floor"
ANCHOR_ANSWERS = ROOT / "bench" / "anchors.yml"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
GOALS = {"render": 1.15, "verified": 1.2, "update": 2.5}
SUITE_BUDGET_S = {"full": 240.0, "quick": 60.0}  # with every package shape in (developers' guide)
sys.path.insert(0, str(ROOT / "tests"))  # the backends table, the fleet and its release, as the tests have them
from scenarios import FLEET_ANSWERS, release_fleet_fix
from support.config import kind_backends, read_copier_config

BACKENDS = kind_backends("library")  # the verified variant builds a library: no extension backend
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache", "site", "dist", "results"
)


def exe(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def sh(cmd: list[str | Path], cwd: Path | None = None) -> None:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, env=ENV, check=False)
    if proc.returncode:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}")


def git(repo: Path, *args: str) -> None:
    sh(["git", *args], cwd=repo)


def make_repo(tree: Path, dst: Path, change: Callable[[Path], None]) -> Path:
    """A git copy of `tree` tagged v1.0.0, then `change` applied and tagged v1.1.0."""
    shutil.copytree(tree, dst, ignore=IGNORE)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "v1.0.0")
    git(dst, "tag", "v1.0.0")
    change(dst)
    git(dst, "commit", "-q", "-am", "v1.1.0")
    git(dst, "tag", "v1.1.0")
    return dst


def touch_template(repo: Path) -> None:
    """A one-line template change in a file that `copier update` still manages (not README)."""
    target = repo / "template" / "pyproject.toml.jinja"
    target.write_text(target.read_text(encoding="utf-8") + "\n# Updated by the template.\n", encoding="utf-8")


Sample = tuple[float, float]  # (wall seconds, CPU seconds of the child processes)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], None]) -> Callable[[], Sample]:
    """`fn` made into a measurement: its wall time, and the CPU time its subprocesses used.

    CPU time barely moves when another process competes for the cores, so its ratio is the
    cross-check of the wall-time ratio on a busy machine.
    """

    def measure() -> Sample:
        start, cpu = time.perf_counter(), children_cpu()
        fn()
        return time.perf_counter() - start, children_cpu() - cpu

    return measure


def alternate(a: Callable[[], Sample], b: Callable[[], Sample], rounds: int) -> tuple[list[Sample], list[Sample]]:
    """ABBA ordering: round i runs A first when i is even, B first when odd."""
    times_a: list[Sample] = []
    times_b: list[Sample] = []
    for i in range(rounds):
        if i % 2 == 0:
            times_a.append(a())
            times_b.append(b())
        else:
            times_b.append(b())
            times_a.append(a())
    return times_a, times_b


def summary(samples: list[Sample]) -> dict[str, float]:
    walls = [wall for wall, _ in samples]
    return {
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "n": len(walls),
        "cpu_median": statistics.median(cpu for _, cpu in samples),
    }


class Workspace:
    """Fresh, unique destination folders under one temporary root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def dest(self, name: str = "bench-pkg") -> Path:
        self.count += 1
        parent = self.root / f"run{self.count:04d}"
        parent.mkdir()
        return parent / name


def copy_cmd(
    repo: Path | str,
    dst: Path,
    *data: str,
    ref: str | None = None,
    copier: str | None = None,
    options: Sequence[str] = (),
) -> list[str | Path]:
    cmd: list[str | Path] = [copier or exe("copier"), "copy", "--defaults", "--quiet", *options]
    if ref:
        cmd += ["--vcs-ref", ref]
    for item in data:
        cmd += ["--data", item]
    return [*cmd, repo, dst]


def verify_pipeline(repo: Path, ws: Workspace, *data: str) -> Callable[[], None]:
    """render -> build sdist+wheel -> twine check --strict -> check-wheel-contents -> venv -> install -> import."""

    def run() -> None:
        project = ws.dest()
        sh(copy_cmd(repo, project, *data))
        dist = project / "dist"
        sh([sys.executable, "-m", "build", "--installer", "uv", "--outdir", dist, project])
        (wheel,) = dist.glob("*.whl")
        sh([exe("twine"), "check", "--strict", *sorted(dist.iterdir())])
        sh([exe("check-wheel-contents"), wheel])
        venv = project.parent / "venv"
        sh([exe("uv"), "venv", "--quiet", "--python", sys.executable, venv])
        sh([exe("uv"), "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel])
        sh([venv / "bin" / "python", "-c", "import bench_pkg"])

    return run


def bench_render(repos: dict[str, Path], ws: Workspace, rounds: int) -> dict:
    a, b = alternate(
        timed(lambda: sh(copy_cmd(repos["template"], ws.dest()))),
        timed(lambda: sh(copy_cmd(repos["floor"], ws.dest()))),
        rounds,
    )
    return {"template": summary(a), "floor": summary(b)}


def bench_verified(repos: dict[str, Path], ws: Workspace, rounds: int, backends: list[str]) -> dict:
    floor = timed(verify_pipeline(repos["floor"], ws))
    out: dict[str, dict] = {}
    for backend in backends:
        mine = timed(verify_pipeline(repos["template"], ws, f"build_backend={backend}"))
        a, b = alternate(mine, floor, rounds)
        out[backend] = {"template": summary(a), "floor": summary(b)}
    return out


def bench_update(repos: dict[str, Path], ws: Workspace, rounds: int) -> dict:
    pristine = ws.dest()
    sh(copy_cmd(repos["template"], pristine, ref="v1.0.0"))
    git(pristine, "init", "-q")
    git(pristine, "add", "-A")
    git(pristine, "commit", "-q", "-m", "generated")

    def update() -> Sample:
        project = ws.dest()
        shutil.copytree(pristine, project)  # a fresh project each round, outside the timing
        return timed(lambda: sh([exe("copier"), "update", "--defaults", "--quiet"], cwd=project))()

    updates, copies = alternate(update, timed(lambda: sh(copy_cmd(repos["template"], ws.dest()))), rounds)
    return {"update": summary(updates), "copy": summary(copies)}


def data_args(answers: dict) -> list[str]:
    """copier's `--data NAME=VALUE` for each answer; JSON for what is not a string (copier parses it as YAML)."""
    return [f"{name}={value if isinstance(value, str) else json.dumps(value)}" for name, value in answers.items()]


# The fleet the tests update (tests/scenarios.py): one project per answer set,
# from v1.0.0 to v1.1.0 as Renovate does it.
FLEET = [data_args(answers) for answers in FLEET_ANSWERS.values()]


def bench_fleet(root: Path, ws: Workspace, rounds: int) -> dict:
    """Renovate's `copier update` of each fleet project, against a plain copy of the same answers.

    Per project and round: the update of a fresh copy of the project at v1.0.0 (A), and
    `copier copy --defaults` of v1.1.0 with its answers (B), alternating.
    """
    repo = make_repo(ROOT, root / "repos" / "fleet", release_fleet_fix)
    source = f"git+file://{repo}"
    pristine = []
    for i, answers in enumerate(FLEET):
        project = ws.dest(f"fleet-{i}")
        sh(copy_cmd(source, project, *answers, ref="v1.0.0"))
        git(project, "init", "-q")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "generated")
        pristine.append(project)
    command = [
        exe("copier"),
        "update",
        "--skip-answered",
        "--defaults",
        "--quiet",
        "--answers-file",
        ".copier-answers.yml",
        "--vcs-ref",
        "v1.1.0",
    ]

    def update(i: int) -> Sample:
        project = ws.dest(f"fleet-{i}")
        shutil.copytree(pristine[i], project)  # outside the timing
        return timed(lambda: sh(command, cwd=project))()

    updates: list[Sample] = []
    copies: list[Sample] = []
    for r in range(rounds):
        for i, answers in enumerate(FLEET):
            copy = timed(lambda answers=answers: sh(copy_cmd(source, ws.dest(), *answers)))
            if (r + i) % 2 == 0:  # ABBA over the projects, as alternate() over rounds
                updates.append(update(i))
                copies.append(copy())
            else:
                copies.append(copy())
                updates.append(update(i))
    fleet_seconds = sum(wall for wall, _ in updates) / rounds
    return {"update": summary(updates), "copy": summary(copies), "projects": len(FLEET), "fleet_seconds": fleet_seconds}


STATUS_SIZES = (50, 200)
STATUS_JOBS = (1, 8)


def bench_fleet_status(root: Path, ws: Workspace, rounds: int) -> dict:
    """fleet/status.py --json over local repositories (file:// URLs), one thread and eight.

    Every repository is a copy at v1.0.0 (one behind); every tenth also has Renovate's update branch
    (made with its copier command), which status.py checks out and checks. Per size and number of
    threads: the seconds of a whole run, and per repository.
    """
    repo = make_repo(ROOT, root / "repos" / "status", release_fleet_fix)
    source = f"git+file://{repo}"
    plain = ws.dest("status-plain")
    sh(copy_cmd(source, plain, ref="v1.0.0"))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
        git(plain, *args)
    branched = ws.dest("status-branched")
    shutil.copytree(plain, branched)
    git(branched, "switch", "-q", "-c", "renovate/template-1.x")
    sh([exe("copier"), "update", "--skip-answered", "--defaults", "--quiet", "--vcs-ref", "v1.1.0"], cwd=branched)
    git(branched, "commit", "-q", "-am", "Update the template")
    git(branched, "switch", "-q", "main")
    fleet = root / "status-fleet"
    urls = []
    for i in range(max(STATUS_SIZES)):
        remote = fleet / f"acme-{i:03d}.git"
        sh(["git", "clone", "-q", "--bare", branched if i % 10 == 0 else plain, remote])
        urls.append(f"file://{remote}")
    out: dict = {}
    for size in STATUS_SIZES:
        listing = root / f"status-{size}.txt"
        listing.write_text("\n".join(urls[:size]) + "\n", encoding="utf-8")
        for jobs in STATUS_JOBS:
            cmd = [sys.executable, ROOT / "fleet" / "status.py", "--json", "--repos", listing, "--template", repo]
            samples = [timed(lambda cmd=cmd, jobs=jobs: sh([*cmd, "--jobs", str(jobs)]))() for _ in range(rounds)]
            result = summary(samples)
            out[f"{size}x{jobs}"] = {**result, "repositories": size, "jobs": jobs,
                                     "per_repository_ms": 1000 * result["median"] / size}  # fmt: skip
    return out


def make_skeleton(kind: str, dst: Path) -> Path:
    """This template with its content taken away, to show what copier costs for its shape alone.

    Every kind keeps the same tree (the same files and folders) with every file emptied.
    "empty": copier.yml unchanged. "no-rules": every question kept, without validators or help,
    and the computed tables cut to one short value. "asked": only the questions a user answers,
    without validators or help.
    """
    shutil.copytree(ROOT, dst, ignore=IGNORE)
    for path in (dst / "template").rglob("*"):
        if path.is_file():  # the answers file stays a real one: copier reads it on update
            path.write_text(
                "{{ _copier_answers | to_nice_yaml }}\n" if "answers_file" in path.name else "x\n", encoding="utf-8"
            )
    if kind == "empty":
        return dst
    # One flat copier.yml: the included tables and computed values merged in, as copier merges them.
    config = read_copier_config(lambda path: (dst / path).read_bytes())
    # Choices computed from the tables become the tables' keys (the tables go or lose their content).
    for question, source in (("python_min", "python_versions"), ("license", "licenses"), ("build_backend", "backends")):
        config[question]["choices"] = list(config[source]["default"])
    # Computed values a file or folder name reads keep their default: the tree must stay the same.
    in_paths = " ".join(p.name for p in (dst / "template").rglob("*"))
    for name, spec in list(config.items()):
        if name.startswith("_") or not isinstance(spec, dict):
            continue
        if spec.get("when") is False and re.search(rf"\b{name}\b", in_paths):
            continue
        if spec.get("when") is False:
            if kind == "asked":
                del config[name]
            else:
                config[name] = {"type": "str", "when": False, "default": "x"}
            continue
        spec.pop("validator", None)
        spec.pop("help", None)
        if isinstance(spec.get("choices"), dict):  # a choice's own validator reads the tables: keep its value
            spec["choices"] = {k: v["value"] if isinstance(v, dict) else v for k, v in spec["choices"].items()}
    config.pop("_message_after_copy")  # it names computed values
    (dst / "copier.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return dst


SKELETONS = ["asked", "no-rules", "empty"]


def rotate(variants: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[Sample]]:
    """Each variant once per round, round i starting at the i-th (so none always runs first or last).

    One unmeasured run of each comes first: it warms the page cache and copier's imports.
    """
    for run in variants.values():
        run()
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            samples[name].append(timed(variants[name])())
    return samples


def bench_skeletons(root: Path, repos: dict[str, Path], ws: Workspace, rounds: int) -> dict:
    """`copier copy --defaults` of the floor, each skeleton and the template, in rotating order."""
    variants = {
        "floor": repos["floor"],
        **{
            kind: make_repo(make_skeleton(kind, root / "trees" / kind), root / "repos" / kind, touch_template)
            for kind in SKELETONS
        },
        "template": repos["template"],
    }
    samples = rotate({name: lambda repo=repo: sh(copy_cmd(repo, ws.dest())) for name, repo in variants.items()}, rounds)
    return {name: summary(s) for name, s in samples.items()}


@dataclass
class Anchor:
    """Another project template to render beside this one: where its clone is, and how to answer it."""

    name: str
    path: Path
    data: dict = field(default_factory=dict)
    trust: bool = False
    requires: list[str] = field(default_factory=list)


def anchor_argument(text: str) -> tuple[str, Path]:
    """NAME=PATH from the command line."""
    name, sep, path = text.partition("=")
    if not (sep and name and path):
        raise argparse.ArgumentTypeError(f"expected NAME=PATH (e.g. sp=/work/anchors/sp), got {text!r}")
    return name, Path(path).expanduser().resolve()


def load_anchors(pairs: list[tuple[str, Path]], answers: Path) -> dict[str, Anchor]:
    """Each NAME=PATH with NAME's answers; ValueError names what is wrong."""
    known = yaml.safe_load(answers.read_text(encoding="utf-8")) or {}
    anchors: dict[str, Anchor] = {}
    for name, path in pairs:
        if name in anchors or name in ("floor", "template"):
            raise ValueError(f"anchor name {name!r} given twice or taken by the floor/template")
        if name not in known:
            raise ValueError(f"no answers for anchor {name!r} in {answers} (it has: {', '.join(known) or 'none'})")
        if not any((path / config).is_file() for config in ("copier.yml", "copier.yaml")):
            raise ValueError(f"anchor {name!r}: {path} has no copier.yml (a clone of the template's repository?)")
        anchors[name] = Anchor(name, path, **known[name])
    return anchors


def snapshot_repo(tree: Path, dst: Path) -> Path:
    """A one-commit git repository of `tree`'s working files, tagged v1.0.0, as copier reads the template.

    Anchors get no history and no tags of their own, as make_repo gives this template, so git's clone
    costs the same kind of work for all; symlinks stay symlinks (some templates render through them).
    """
    shutil.copytree(tree, dst, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "v1.0.0")
    git(dst, "tag", "v1.0.0")
    return dst


def anchor_copier(root: Path, requires: list[str]) -> str:
    """The copier every side of the anchor comparison runs: this one, or, when an anchor's Jinja
    extensions need packages, the same copier in a venv of the same locked versions plus those."""
    if not requires:
        return exe("copier")
    constraints = root / "constraints.txt"
    frozen = subprocess.run(
        [exe("uv"), "pip", "freeze", "--python", sys.executable], capture_output=True, text=True, check=True
    )
    constraints.write_text(frozen.stdout, encoding="utf-8")
    venv = root / "anchor-copier"
    sh([exe("uv"), "venv", "--quiet", "--python", sys.executable, venv])
    copier = f"copier=={importlib.metadata.version('copier')}"
    # compiled once here: each copier process would otherwise compile its imports (~1.5 s)
    python = venv / "bin" / "python"
    sh(
        [
            exe("uv"),
            "pip",
            "install",
            "--quiet",
            "--compile-bytecode",
            "--python",
            python,
            "-c",
            constraints,
            copier,
            *requires,
        ]
    )
    return str(venv / "bin" / "copier")


COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


def instructions(cmd: list[str | Path]) -> int:
    """Instructions one run of `cmd` (a copier copy) executes in copier's process, counted by valgrind.

    Unlike seconds, the count does not move when other processes share the cores: a change of a few
    per cent shows in one run. git's subprocesses are not counted.
    """
    copier, *args = cmd
    python = Path(str(copier)).parent / "python"  # valgrind runs an executable, not the script's shebang
    counted = [exe("valgrind"), "--tool=callgrind", "--callgrind-out-file=/dev/null", python, "-m", "copier", *args]
    proc = subprocess.run([str(c) for c in counted], capture_output=True, text=True, env=ENV, check=False)
    if proc.returncode or not (match := COLLECTED.search(proc.stderr)):
        sys.exit(f"valgrind failed ({proc.returncode}): {' '.join(map(str, counted))}\n{proc.stderr[-2000:]}")
    return int(match.group(1))


def bench_anchors(
    root: Path, repos: dict[str, Path], ws: Workspace, rounds: int, anchors: dict[str, Anchor], count: bool = False
) -> dict:
    """`copier copy --defaults` of the floor, this template and each anchor (with its answers), rotating.

    With `count`, each one also runs once under valgrind, for its instructions (see instructions()).
    """
    copier = anchor_copier(root, sorted({req for anchor in anchors.values() for req in anchor.requires}))
    commands: dict[str, Callable[[], list[str | Path]]] = {
        name: lambda repo=repos[name]: copy_cmd(repo, ws.dest(), copier=copier) for name in ("floor", "template")
    }
    for name, anchor in anchors.items():
        repo = snapshot_repo(anchor.path, root / "repos" / "anchors" / name)
        answers = root / "answers" / f"{name}.yml"
        answers.parent.mkdir(parents=True, exist_ok=True)
        answers.write_text(yaml.safe_dump(anchor.data), encoding="utf-8")
        options = ["--data-file", str(answers), *(["--trust"] if anchor.trust else [])]
        commands[name] = lambda repo=repo, options=options: copy_cmd(repo, ws.dest(), copier=copier, options=options)
    samples = rotate({name: lambda command=command: sh(command()) for name, command in commands.items()}, rounds)
    floor = [wall for wall, _ in samples["floor"]]
    out: dict = {name: summary(s) for name, s in samples.items()}
    for name, s in samples.items():  # the spread: each round's ratio to the floor of the same round
        out[name]["round_ratios"] = [wall / base for (wall, _), base in zip(s, floor, strict=True)]
        if count:
            out[name]["instructions"] = instructions(commands[name]())
    out["copier"] = copier
    return out


MACHINE_LOOP = (
    "import time\nt = time.perf_counter()\ns = 0\n"
    "for i in range(30_000_000):\n    s += i\nprint(time.perf_counter() - t)"
)


def machine_seconds() -> float:
    """Seconds a fresh interpreter takes for 30 M additions: how fast the machine is right now.

    Suite times are read against it: on a shared 2-core VM the same suite moves by half within a
    day, and this loop with it.
    """
    return float(
        subprocess.run([sys.executable, "-c", MACHINE_LOOP], capture_output=True, text=True, check=True).stdout
    )


def bench_suite() -> dict:
    out = {}
    machine = machine_seconds()
    for name, extra in (("full", []), ("quick", ["-m", "not slow"])):
        before = machine
        wall, cpu = timed(lambda extra=extra: sh([sys.executable, "-m", "pytest", "-q", *extra], cwd=ROOT))()
        machine = machine_seconds()  # after this run, and before the next
        out[name] = {"seconds": wall, "cpu_seconds": cpu, "machine_seconds": [before, machine]}
    return out


def ratio(a: dict, b: dict) -> float:
    return a["median"] / b["median"]


def fmt(s: dict) -> str:
    return f"{s['median']:.2f}s [{s['min']:.2f}-{s['max']:.2f}]"


def row(label: str, a: dict, b: dict, goal: str) -> str:
    cpu_ratio = a["cpu_median"] / b["cpu_median"]
    return f"{label:<22} {fmt(a):<30} {fmt(b):<30} {ratio(a, b):>6.2f} {cpu_ratio:>6.2f}  {goal}"


def anchor_report(r: dict) -> list[str]:
    """This template and each anchor against the floor, fastest first, with the spread over rounds.

    "ahead" is judged on each measure the run has: wall time, CPU time and, when counted, instructions.
    """
    names = sorted((name for name in r if name not in ("floor", "copier")), key=lambda name: ratio(r[name], r["floor"]))
    measures = {
        "wall": lambda name: r[name]["median"],
        "cpu": lambda name: r[name]["cpu_median"],
        **({"instructions": lambda name: r[name]["instructions"]} if "instructions" in r["floor"] else {}),
    }
    lines = []
    for name in names:
        goal = f"rounds {min(r[name]['round_ratios']):.2f}-{max(r[name]['round_ratios']):.2f}"
        if "instructions" in measures:
            goal += f"; instructions {r[name]['instructions'] / r['floor']['instructions']:.2f}"
        if name == "template":
            ahead = [
                key
                for key, of in measures.items()
                if all(of("template") < of(other) for other in names if other != name)
            ]
            goal += f"; ahead of every anchor by: {', '.join(ahead) or 'none'}"
        label = "anchor-run template" if name == "template" else f"anchor {name}"
        lines.append(row(label, r[name], r["floor"], goal))
    return lines


def report(results: dict) -> list[str]:
    header = (
        f"{'benchmark':<22} {'template (median [min-max])':<30} {'floor / baseline':<30} {'ratio':>6} {'cpu':>6}  goal"
    )
    lines = [header, f"{'':<84} (wall)  (cross-check)"]
    if "render" in results:
        r = results["render"]
        lines.append(row("render", r["template"], r["floor"], f"<= {GOALS['render']}"))
    for backend, r in results.get("verified", {}).items():
        goal = f"<= {GOALS['verified']}" if backend == "hatchling" else "(report)"
        lines.append(row(f"verified {backend}", r["template"], r["floor"], goal))
    if "update" in results:
        r = results["update"]
        lines.append(row("update vs copy", r["update"], r["copy"], f"<= {GOALS['update']}"))
    if "skeletons" in results:
        r = results["skeletons"]
        for name in [*SKELETONS, "template"]:
            label = f"skeleton {name}" if name != "template" else "skeletons' template"
            lines.append(row(label, r[name], r["floor"], f"(render <= {GOALS['render']})"))
    if "anchors" in results:
        lines += anchor_report(results["anchors"])
    if "fleet" in results:
        r = results["fleet"]
        lines.append(row("fleet update/project", r["update"], r["copy"], "(report)"))
        label = f"{r['fleet_seconds']:.1f}s for {r['projects']} projects"
        lines.append(f"{'fleet update, all':<22} {label:<30} {'':<30} {'':>6} {'':>6}  (report)")
    for r in results.get("fleet-status", {}).values():
        label = f"{fmt(r)} ({r['cpu_median']:.1f}s CPU)"
        each = f"{r['per_repository_ms']:.0f} ms a repository"
        lines.append(
            f"{'status ' + str(r['repositories']) + ' x' + str(r['jobs']) + ' jobs':<22} {label:<30} {each:<30}"
        )
    for name, r in results.get("suite", {}).items():
        goal = f"<= {SUITE_BUDGET_S[name]:.0f}s"
        label = f"{r['seconds']:.1f}s ({r['cpu_seconds']:.0f}s CPU)"
        machine = " / ".join(f"{m:.2f}" for m in r["machine_seconds"])
        lines.append(
            f"{'suite ' + name:<22} {label:<30} {'':<30} {'':>6} {'':>6}  {goal}  (machine: {machine} s before / after)"
        )
    return lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options; --anchors become args.anchors, a dict of Anchor by name (and add "anchors" to --only)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="A/B rounds for render and update (default 6)")
    parser.add_argument(
        "--verified-rounds", type=int, default=3, help="A/B rounds per backend for the verified variant"
    )
    parser.add_argument(
        "--only",
        default="render,verified,update,suite",
        help="comma-separated subset (also: skeletons, fleet, fleet-status, anchors)",
    )
    parser.add_argument("--fleet-rounds", type=int, default=2, help="rounds over the 10 fleet projects (default 2)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="backends for the verified variant")
    parser.add_argument("--json", type=Path, help="where to save the JSON (default bench/results/<time>.json)")
    parser.add_argument(
        "--anchors",
        nargs="+",
        type=anchor_argument,
        default=[],
        metavar="NAME=PATH",
        help="other templates' clones to render beside this one (runs the 'anchors' comparison)",
    )
    parser.add_argument(
        "--instructions", action="store_true", help="also count each anchor-run render's instructions (valgrind)"
    )
    parser.add_argument(
        "--anchor-answers", type=Path, default=ANCHOR_ANSWERS, help="answers per anchor NAME (bench/anchors.yml)"
    )
    args = parser.parse_args(argv)
    args.only = set(args.only.split(","))
    try:
        args.anchors = load_anchors(args.anchors, args.anchor_answers)
    except ValueError as error:
        parser.error(str(error))
    if args.anchors:
        args.only.add("anchors")
    elif "anchors" in args.only:
        parser.error("--only anchors needs --anchors NAME=PATH ...")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    only = args.only

    with tempfile.TemporaryDirectory(prefix="pypi-template-bench-") as tmp:
        root = Path(tmp)
        settings = root / "copier-settings.yml"
        settings.write_text("{}\n", encoding="utf-8")
        gitconfig = root / "gitconfig"
        gitconfig.write_text(
            "[user]\n\tname = bench\n\temail = bench@example.invalid\n[init]\n\tdefaultBranch = main\n",
            encoding="utf-8",
        )
        ENV.update(COPIER_SETTINGS_PATH=str(settings), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1")
        repos = {
            "template": make_repo(ROOT, root / "repos" / "template", touch_template),
            "floor": make_repo(FLOOR, root / "repos" / "floor", touch_template),
        }
        ws = Workspace(root / "work")
        ws.root.mkdir()
        # One unmeasured warm-up of each pipeline: fills uv's cache, imports, page cache.
        if only == {"anchors"}:
            pass  # rotate() warms each variant up itself
        elif only & {"render", "verified", "update", "skeletons"}:
            verify_pipeline(repos["template"], ws, "build_backend=hatchling")()
            verify_pipeline(repos["floor"], ws)()
        else:  # the fleet only copies and updates
            sh(copy_cmd(repos["template"], ws.dest()))

        results: dict = {}
        if "render" in only:
            results["render"] = bench_render(repos, ws, args.rounds)
        if "verified" in only:
            results["verified"] = bench_verified(repos, ws, args.verified_rounds, args.backends.split(","))
        if "update" in only:
            results["update"] = bench_update(repos, ws, args.rounds)
        if "skeletons" in only:
            results["skeletons"] = bench_skeletons(root, repos, ws, args.rounds)
        if "fleet" in only:
            results["fleet"] = bench_fleet(root, ws, args.fleet_rounds)
        if "fleet-status" in only:
            results["fleet-status"] = bench_fleet_status(root, ws, args.fleet_rounds)
        if "anchors" in only:
            results["anchors"] = bench_anchors(root, repos, ws, args.rounds, args.anchors, count=args.instructions)
    if "suite" in only:
        results["suite"] = bench_suite()

    lines = report(results)
    print("\n".join(lines))
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "verified_rounds": args.verified_rounds,
        "copier": importlib.metadata.version("copier"),
        "anchors": {name: str(anchor.path) for name, anchor in args.anchors.items()},
    }
    path = args.json or RESULTS / f"{meta['when'].replace(':', '')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": results, "table": lines}, indent=2) + "\n", encoding="utf-8")
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


# Subprocess environment: the caller's, plus isolated copier settings and git config set in main().
ENV = dict(os.environ)

if __name__ == "__main__":
    main()
