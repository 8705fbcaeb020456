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

Goals: render <= 1.15, verified (hatchling) <= 1.2, update <= 2.5; suite: full <= 180 s and
quick (-m "not slow") <= 60 s of wall time on the 2-core CI machine.
Results are printed as a table and saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ROOT / "bench" / "floor"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
GOALS = {"render": 1.15, "verified": 1.2, "update": 2.5}
SUITE_BUDGET_S = {"full": 180.0, "quick": 60.0}
sys.path.insert(0, str(ROOT / "tests"))  # the backends table and the fleet release, as the tests have them
from helpers import backend_names, read_copier_config, release_fleet_fix  # noqa: E402

BACKENDS = backend_names()
IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache", "site", "dist", "results")


def exe(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def sh(cmd: list[str | Path], cwd: Path | None = None) -> None:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, env=ENV)
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


def copy_cmd(repo: Path, dst: Path, *data: str, ref: str | None = None) -> list[str | Path]:
    cmd: list[str | Path] = [exe("copier"), "copy", "--defaults", "--quiet"]
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


# The fleet: one project per answer set, updated from v1.0.0 to v1.1.0 as Renovate does it.
FLEET_ANSWERS = [
    [], ["build_backend=hatchling"], ["build_backend=flit-core"], ["build_backend=pdm-backend", "use_testpypi=false"],
    ["build_backend=uv-build"], ["build_backend=poetry-core"], ["project_kind=meta-package", "extras={}"],
    ["project_kind=meta-package", "extras={}", "build_backend=hatchling", "use_testpypi=false"],
    ["project_kind=meta-package", "extras={}", "build_backend=pdm-backend"], ["project_kind=meta-package", "extras={}", "build_backend=uv-build"],
]
def bench_fleet(root: Path, ws: Workspace, rounds: int) -> dict:
    """Renovate's `copier update` of each fleet project, against a plain copy of the same answers.

    Per project and round: the update of a fresh copy of the project at v1.0.0 (A), and
    `copier copy --defaults` of v1.1.0 with its answers (B), alternating.
    """
    repo = make_repo(ROOT, root / "repos" / "fleet", release_fleet_fix)
    source = f"git+file://{repo}"
    pristine = []
    for i, answers in enumerate(FLEET_ANSWERS):
        project = ws.dest(f"fleet-{i}")
        sh(copy_cmd(source, project, *answers, ref="v1.0.0"))
        git(project, "init", "-q")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "generated")
        pristine.append(project)
    command = [exe("copier"), "update", "--skip-answered", "--defaults", "--quiet", "--answers-file", ".copier-answers.yml", "--vcs-ref", "v1.1.0"]

    def update(i: int) -> Sample:
        project = ws.dest(f"fleet-{i}")
        shutil.copytree(pristine[i], project)  # outside the timing
        return timed(lambda: sh(command, cwd=project))()

    updates: list[Sample] = []
    copies: list[Sample] = []
    for r in range(rounds):
        for i, answers in enumerate(FLEET_ANSWERS):
            copy = timed(lambda answers=answers: sh(copy_cmd(source, ws.dest(), *answers)))
            if (r + i) % 2 == 0:  # ABBA over the projects, as alternate() over rounds
                updates.append(update(i))
                copies.append(copy())
            else:
                copies.append(copy())
                updates.append(update(i))
    fleet_seconds = sum(wall for wall, _ in updates) / rounds
    return {"update": summary(updates), "copy": summary(copies), "projects": len(FLEET_ANSWERS), "fleet_seconds": fleet_seconds}


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
            path.write_text("{{ _copier_answers | to_nice_yaml }}\n" if "answers_file" in path.name else "x\n", encoding="utf-8")
    if kind == "empty":
        return dst
    # One flat copier.yml: the included tables and computed values merged in, as copier merges them.
    config = read_copier_config(lambda path: (dst / path).read_bytes())
    # Choices computed from the tables become the tables' keys (the tables go or lose their content).
    for question, source in (("python_min", "python_versions"), ("license", "licenses"), ("build_backend", "backends")):
        config[question]["choices"] = list(config[source]["default"])
    for name, spec in list(config.items()):
        if name.startswith("_") or not isinstance(spec, dict):
            continue
        if spec.get("when") is False:
            if kind == "asked":
                del config[name]
            else:
                config[name] = {"type": "str", "when": False, "default": "x"}
            continue
        spec.pop("validator", None)
        spec.pop("help", None)
    config.pop("_message_after_copy")  # it names computed values
    (dst / "copier.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return dst


SKELETONS = ["asked", "no-rules", "empty"]


def bench_skeletons(root: Path, repos: dict[str, Path], ws: Workspace, rounds: int) -> dict:
    """`copier copy --defaults` of the floor, each skeleton and the template, in rotating order."""
    variants = {
        "floor": repos["floor"],
        **{kind: make_repo(make_skeleton(kind, root / "trees" / kind), root / "repos" / kind, touch_template) for kind in SKELETONS},
        "template": repos["template"],
    }
    for repo in variants.values():  # unmeasured: the first copy of each warms the page cache
        sh(copy_cmd(repo, ws.dest()))
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            samples[name].append(timed(lambda repo=variants[name]: sh(copy_cmd(repo, ws.dest())))())
    return {name: summary(s) for name, s in samples.items()}


MACHINE_LOOP = "import time\nt = time.perf_counter()\ns = 0\nfor i in range(30_000_000):\n    s += i\nprint(time.perf_counter() - t)"


def machine_seconds() -> float:
    """Seconds a fresh interpreter takes for 30 M additions: how fast the machine is right now.

    Suite times are read against it: on a shared 2-core VM the same suite moves by half within a
    day, and this loop with it.
    """
    return float(subprocess.run([sys.executable, "-c", MACHINE_LOOP], capture_output=True, text=True, check=True).stdout)


def bench_suite() -> dict:
    out = {}
    machine = machine_seconds()
    for name, extra in (("full", []), ("quick", ["-m", "not slow"])):
        before = machine
        wall, cpu = timed(lambda: sh([sys.executable, "-m", "pytest", "-q", *extra], cwd=ROOT))()
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


def report(results: dict) -> list[str]:
    header = f"{'benchmark':<22} {'template (median [min-max])':<30} {'floor / baseline':<30} {'ratio':>6} {'cpu':>6}  goal"
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
    if "fleet" in results:
        r = results["fleet"]
        lines.append(row("fleet update/project", r["update"], r["copy"], "(report)"))
        label = f"{r['fleet_seconds']:.1f}s for {r['projects']} projects"
        lines.append(f"{'fleet update, all':<22} {label:<30} {'':<30} {'':>6} {'':>6}  (report)")
    for name, r in results.get("suite", {}).items():
        goal = f"<= {SUITE_BUDGET_S[name]:.0f}s"
        label = f"{r['seconds']:.1f}s ({r['cpu_seconds']:.0f}s CPU)"
        machine = " / ".join(f"{m:.2f}" for m in r["machine_seconds"])
        lines.append(f"{'suite ' + name:<22} {label:<30} {'':<30} {'':>6} {'':>6}  {goal}  (machine: {machine} s before / after)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="A/B rounds for render and update (default 6)")
    parser.add_argument("--verified-rounds", type=int, default=3, help="A/B rounds per backend for the verified variant")
    parser.add_argument("--only", default="render,verified,update,suite", help="comma-separated subset (also: skeletons, fleet)")
    parser.add_argument("--fleet-rounds", type=int, default=2, help="rounds over the 10 fleet projects (default 2)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="backends for the verified variant")
    parser.add_argument("--json", type=Path, help="where to save the JSON (default bench/results/<time>.json)")
    args = parser.parse_args()
    only = set(args.only.split(","))

    with tempfile.TemporaryDirectory(prefix="pypi-template-bench-") as tmp:
        root = Path(tmp)
        settings = root / "copier-settings.yml"
        settings.write_text("{}\n", encoding="utf-8")
        gitconfig = root / "gitconfig"
        gitconfig.write_text("[user]\n\tname = bench\n\temail = bench@example.invalid\n[init]\n\tdefaultBranch = main\n", encoding="utf-8")
        ENV.update(COPIER_SETTINGS_PATH=str(settings), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1")
        repos = {
            "template": make_repo(ROOT, root / "repos" / "template", touch_template),
            "floor": make_repo(FLOOR, root / "repos" / "floor", touch_template),
        }
        ws = Workspace(root / "work")
        ws.root.mkdir()
        # One unmeasured warm-up of each pipeline: fills uv's cache, imports, page cache.
        if only & {"render", "verified", "update", "skeletons"}:
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
    if "suite" in only:
        results["suite"] = bench_suite()

    lines = report(results)
    print("\n".join(lines))
    meta = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "verified_rounds": args.verified_rounds,
    }
    path = args.json or RESULTS / f"{meta['when'].replace(':', '')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": results, "table": lines}, indent=2) + "\n", encoding="utf-8")
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


# Subprocess environment: the caller's, plus isolated copier settings and git config set in main().
ENV = dict(os.environ)

if __name__ == "__main__":
    main()
