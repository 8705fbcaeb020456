"""The benchmark's inputs: the skeletons it measures keep this template's tree and drop its rules;
the anchors it compares with render from their clones with our answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
import pytest

from scenarios import FLEET_ANSWERS, release_fleet_fix
from support.config import TEMPLATE_ROOT, load_copier_config, question_names, read_copier_config
from support.proc import import_script, run
from support.render import list_files, render_once, render_project, template_source

BENCH = import_script(TEMPLATE_ROOT / "bench" / "run.py", "bench_run")


@pytest.mark.parametrize("kind", BENCH.SKELETONS)
def test_skeleton_renders_the_same_files_emptied(kind: str, tmp_path: Path) -> None:
    tree = BENCH.make_skeleton(kind, tmp_path / "tree")
    project = render_project(tmp_path / "out" / "demo-pkg", {"copyright_year": "2026"}, src=tree)
    full = render_once("build-defaults", {})  # the render matrix's defaults, shared
    assert list_files(project) == list_files(full)
    emptied = {name for name in list_files(project) if (project / name).read_text(encoding="utf-8") == "x\n"}
    assert emptied == list_files(project) - {".copier-answers.yml"}
    config = read_copier_config(lambda path: (tree / path).read_bytes())
    questions = {name: spec for name, spec in config.items() if not name.startswith("_")}
    if kind == "empty":
        assert (tree / "copier.yml").read_bytes() == (TEMPLATE_ROOT / "copier.yml").read_bytes()
        return
    assert not [name for name, spec in questions.items() if "validator" in spec or "help" in spec]
    original = [name for name in load_copier_config() if not name.startswith("_")]
    # A computed value a file name reads (`command`, `git_archive`) stays whole: the tree stays the same.
    in_paths = " ".join(p.name for p in (TEMPLATE_ROOT / "template").rglob("*"))
    named = [name for name in original if re.search(rf"\b{name}\b", in_paths) and name not in question_names()]
    assert named == ["git_archive", "command"]
    assert list(questions) == ([*question_names(), *named] if kind == "asked" else original)
    computed = [name for name, spec in questions.items() if spec.get("when") is False and name not in named]
    assert all(questions[name] == {"type": "str", "when": False, "default": "x"} for name in computed)
    assert all(questions[name] == load_copier_config()[name] for name in named)


def test_fleet_benchmark_releases_what_the_fleet_test_updates() -> None:
    """bench/run.py --only fleet times the v1.1.0 change tests/test_fleet.py checks, on its fleet: the tests' own."""
    assert BENCH.release_fleet_fix is release_fleet_fix
    assert BENCH.FLEET_ANSWERS is FLEET_ANSWERS
    assert len(BENCH.FLEET_ANSWERS) >= 10


@pytest.mark.slow  # copier's command line
def test_fleet_benchmark_copies_with_the_fleets_answers(tmp_path: Path) -> None:
    """The benchmark passes each answer set as `--data`: a string, a boolean and the extras' YAML
    reach copier as the tests' answers do, byte for byte in the answers file."""
    name = "meta-hatchling-pypi-only"
    answers = FLEET_ANSWERS[name]
    assert {type(value) for value in answers.values()} == {str, bool, dict}
    (data,) = [args for args, member in zip(BENCH.FLEET, FLEET_ANSWERS, strict=True) if member == name]
    cli = tmp_path / "cli" / "demo-pkg"
    run(BENCH.copy_cmd(template_source(), cli, *data))
    api = render_project(tmp_path / "api" / "demo-pkg", answers)
    assert (cli / ".copier-answers.yml").read_text(encoding="utf-8") == (api / ".copier-answers.yml").read_text(
        encoding="utf-8"
    )


def test_suite_report_states_the_budget_and_the_machine_speed() -> None:
    """A suite time means little without the machine's speed at the time: both are on its line."""
    suite = {"full": {"seconds": 158.04, "cpu_seconds": 285.2, "machine_seconds": [1.73, 1.88]}}
    (line,) = [line for line in BENCH.report({"suite": suite}) if line.startswith("suite full")]
    assert "158.0s (285s CPU)" in line, line
    assert line.endswith("<= 240s  (machine: 1.73 / 1.88 s before / after)"), line


def test_suite_runs_share_the_machine_speed_measured_between_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three measurements for two runs: the one after the full run is the one before the quick run."""
    speeds = iter([1.5, 2.5, 3.5])
    monkeypatch.setattr(BENCH, "machine_seconds", lambda: next(speeds))
    monkeypatch.setattr(BENCH, "sh", lambda *_args, **_kwargs: None)  # no suite: only the bookkeeping
    suite = BENCH.bench_suite()
    assert [suite[name]["machine_seconds"] for name in ("full", "quick")] == [[1.5, 2.5], [2.5, 3.5]]


def write_fake_anchor(root: Path) -> tuple[Path, Path]:
    """A 2-file copier template whose one question has no default, and the answers file naming it."""
    (root / "fake" / "template").mkdir(parents=True)
    (root / "fake" / "copier.yml").write_text("_subdirectory: template\ngreeting:\n  type: str\n", encoding="utf-8")
    (root / "fake" / "template" / "README.md.jinja").write_text("{{ greeting }}\n", encoding="utf-8")
    answers = root / "anchors.yml"
    answers.write_text("fake:\n  data:\n    greeting: hello\n", encoding="utf-8")
    return root / "fake", answers


def test_anchor_arguments_name_each_template_and_its_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--anchors NAME=PATH takes a clone with copier.yml and the answers bench/anchors.yml has for NAME."""
    fake, answers = write_fake_anchor(tmp_path)
    args = BENCH.parse_args(["--only", "render", "--anchors", f"fake={fake}", "--anchor-answers", str(answers)])
    assert args.only == {"render", "anchors"}
    (anchor,) = args.anchors.values()
    assert (anchor.name, anchor.path, anchor.data) == ("fake", fake, {"greeting": "hello"})
    assert (anchor.trust, anchor.requires) == (False, [])
    assert BENCH.parse_args([]).anchors == {}
    refused = {
        "expected NAME=PATH": ["--anchors", str(fake)],
        "given twice": ["--anchors", f"fake={fake}", f"fake={fake}"],
        "no answers for anchor 'other'": ["--anchors", f"other={fake}"],
        "has no copier.yml": ["--anchors", f"fake={tmp_path}"],
        "--only anchors needs --anchors": ["--only", "anchors"],
    }
    for message, argv in refused.items():
        with pytest.raises(SystemExit) as exit_info:
            BENCH.parse_args([*argv, "--anchor-answers", str(answers)])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err, argv


def test_committed_anchor_answers_load() -> None:
    """bench/anchors.yml gives every anchor the fields Anchor takes (a typo would fail only at bench time)."""
    import yaml  # here, not at the top: the module's other tests no longer need it on main

    known = yaml.safe_load(BENCH.ANCHOR_ANSWERS.read_text(encoding="utf-8"))
    assert set(known) == {"sp", "pyos", "diamond", "lincc", "copier-uv"}
    for name, spec in known.items():
        anchor = BENCH.Anchor(name, TEMPLATE_ROOT, **spec)
        assert isinstance(anchor.data, dict), name
    assert [name for name, spec in known.items() if spec.get("requires")] == ["sp", "copier-uv"]


def test_anchor_comparison_renders_a_fake_anchor_with_its_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole --anchors path, one round: without its answer the fake anchor's render would fail."""
    fake, answers = write_fake_anchor(tmp_path)
    monkeypatch.setattr(BENCH, "ENV", dict(BENCH.ENV))  # main() sets the run's copier settings and git config
    saved = tmp_path / "result.json"
    BENCH.main(
        [
            "--only",
            "anchors",
            "--rounds",
            "1",
            "--anchors",
            f"fake={fake}",
            "--anchor-answers",
            str(answers),
            "--json",
            str(saved),
        ]
    )
    result = json.loads(saved.read_text(encoding="utf-8"))
    anchors = result["results"]["anchors"]
    assert {name: anchors[name]["n"] for name in ("floor", "template", "fake")} == {
        "floor": 1,
        "template": 1,
        "fake": 1,
    }
    assert anchors["floor"]["round_ratios"] == [1.0]
    assert result["meta"]["anchors"] == {"fake": str(fake)}
    table = capsys.readouterr().out
    assert [line.split()[:2] for line in table.splitlines() if line.startswith("anchor")] in (
        [["anchor", "fake"], ["anchor-run", "template"]],
        [["anchor-run", "template"], ["anchor", "fake"]],
    ), table
    assert "ahead of every anchor by: " in table


def test_anchor_comparison_fails_when_an_anchor_lacks_an_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, answers = write_fake_anchor(tmp_path)
    answers.write_text("fake:\n  data: {}\n", encoding="utf-8")
    monkeypatch.setattr(BENCH, "ENV", dict(BENCH.ENV))
    argv = ["--only", "anchors", "--rounds", "1", "--anchors", f"fake={fake}", "--anchor-answers", str(answers)]
    with pytest.raises(SystemExit, match='Question "greeting" is required'):
        BENCH.main([*argv, "--json", str(tmp_path / "r.json")])


def test_anchor_report_judges_the_lead_on_each_measure() -> None:
    """Wall time on a shared machine can say one thing and CPU time or instructions another: each is named."""

    def measured(wall: float, cpu: float, instructions: int) -> dict:
        summary = {"median": wall, "min": wall, "max": wall, "n": 1, "cpu_median": cpu}
        return {**summary, "round_ratios": [wall], "instructions": instructions}

    results = {
        "floor": measured(1.0, 1.0, 100),
        "template": measured(1.5, 1.3, 180),
        "sp": measured(1.4, 1.4, 200),
        "copier": "copier",
    }
    lines = BENCH.anchor_report(results)
    assert [line.split()[1] for line in lines] == ["sp", "template"]  # fastest wall first
    (template,) = [line for line in lines if line.startswith("anchor-run template")]
    assert template.endswith("instructions 1.80; ahead of every anchor by: cpu, instructions"), template
    del results["template"]["instructions"], results["sp"]["instructions"], results["floor"]["instructions"]
    (template,) = [line for line in BENCH.anchor_report(results) if line.startswith("anchor-run template")]
    assert template.endswith("rounds 1.50-1.50; ahead of every anchor by: cpu"), template


def test_instructions_runs_the_copier_command_under_valgrind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The count comes from valgrind's "Collected" line, for the same copier command the rounds time."""
    fake, _ = write_fake_anchor(tmp_path)
    valgrind = tmp_path / "valgrind"  # a stand-in: runs the command after valgrind's two options, reports a count
    valgrind.write_text(
        '#!/bin/sh\nshift 2\n"$@" || exit $?\necho "==77== Collected : 123456789" >&2\n', encoding="utf-8"
    )
    valgrind.chmod(0o755)
    real_exe = BENCH.exe
    monkeypatch.setattr(BENCH, "exe", lambda name: str(valgrind) if name == "valgrind" else real_exe(name))
    monkeypatch.setattr(BENCH, "ENV", {**BENCH.ENV, "COPIER_SETTINGS_PATH": str(tmp_path / "none.yml")})
    out = tmp_path / "out"
    assert BENCH.instructions(BENCH.copy_cmd(fake, out, "greeting=hi")) == 123456789
    assert (out / "README.md").read_text(encoding="utf-8") == "hi\n"
    with pytest.raises(SystemExit, match="valgrind failed"):  # copier's own failure is not a count
        BENCH.instructions(BENCH.copy_cmd(fake, tmp_path / "again"))


def test_templates_compile_without_constant_folding() -> None:
    """copier compiles every question string and file of a render once and runs it once, so Jinja's
    optimizer (constant folding at compile time) costs more than it saves: it is off."""
    from copier._jinja_ext import SandboxedEnvironment

    envops = load_copier_config()["_envops"]
    assert envops["optimized"] is False
    env = SandboxedEnvironment(**{**envops, "undefined": jinja2.StrictUndefined})
    assert env.optimized is False
    source = "{% if x == 1 + 2 %}y{% endif %}"  # folded to `== 3` when the optimizer is on
    assert "== 3)" in SandboxedEnvironment().compile(source, raw=True)
    assert "== (1 + 2))" in env.compile(source, raw=True)
