"""The benchmark's inputs: the skeletons it measures keep this template's tree and drop its rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import (
    TEMPLATE_ROOT,
    import_script,
    list_files,
    load_copier_config,
    question_names,
    read_copier_config,
    release_fleet_fix,
    render_once,
    render_project,
)


BENCH = import_script(TEMPLATE_ROOT / "bench" / "run.py", "bench_run")


@pytest.mark.parametrize("kind", BENCH.SKELETONS)
def test_skeleton_renders_the_same_files_emptied(kind: str, tmp_path: Path) -> None:
    tree = BENCH.make_skeleton(kind, tmp_path / "tree")
    project = render_project(tmp_path / "out" / "demo-pkg", {"copyright_year": "2026"}, src=tree)
    full = render_once("bench-reference", {})
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
    assert list(questions) == (question_names() if kind == "asked" else original)
    computed = [name for name, spec in questions.items() if spec.get("when") is False]
    assert all(questions[name] == {"type": "str", "when": False, "default": "x"} for name in computed)


def test_fleet_benchmark_releases_what_the_fleet_test_updates() -> None:
    """bench/run.py --only fleet times the v1.1.0 change tests/test_fleet.py checks: the tests' own."""
    assert BENCH.release_fleet_fix is release_fleet_fix
    assert len(BENCH.FLEET_ANSWERS) >= 10


def test_suite_report_states_the_budget_and_the_machine_speed() -> None:
    """A suite time means little without the machine's speed at the time: both are on its line."""
    suite = {"full": {"seconds": 158.04, "cpu_seconds": 285.2, "machine_seconds": [1.73, 1.88]}}
    (line,) = [line for line in BENCH.report({"suite": suite}) if line.startswith("suite full")]
    assert "158.0s (285s CPU)" in line, line
    assert line.endswith("<= 180s  (machine: 1.73 / 1.88 s before / after)"), line


def test_suite_runs_share_the_machine_speed_measured_between_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three measurements for two runs: the one after the full run is the one before the quick run."""
    speeds = iter([1.5, 2.5, 3.5])
    monkeypatch.setattr(BENCH, "machine_seconds", lambda: next(speeds))
    monkeypatch.setattr(BENCH, "sh", lambda *args, **kwargs: None)  # no suite: only the bookkeeping
    suite = BENCH.bench_suite()
    assert [suite[name]["machine_seconds"] for name in ("full", "quick")] == [[1.5, 2.5], [2.5, 3.5]]
