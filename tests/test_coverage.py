"""Coverage in a generated library: ci.yml's tests job runs the tests under coverage.py, writes the
figures to the job summary and fails below `[tool.coverage.report] fail_under` of pyproject.toml.

The job's own commands, taken from the rendered ci.yml, run here as CI runs them: on the project
installed (not editable) with its test dependency group.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from scenarios import variant_project
from support.config import PYTHON_VERSIONS
from support.envs import install_into, make_venv
from support.workflows import load_yaml, steps

pytestmark = pytest.mark.slow

# A library with a command: __init__.py and __main__.py to measure.
VARIANT = f"library-{PYTHON_VERSIONS[0]}"
# coverage's messages, and the total row of its Markdown table.
COVERAGE_FAILURE = re.compile(r"^Coverage failure: total of (\d+(?:\.\d+)?) is less than fail-under=100$", re.MULTILINE)
SUMMARY_TOTAL = re.compile(r"^\| \*\*TOTAL\*\* +\|.*\| +\*\*(\d+)%\*\* \|", re.MULTILINE)


def ci_test_steps(project: Path) -> list[str]:
    """The `run:` of every step of ci.yml's tests job after the install: what runs the tests."""
    runs = [s["run"] for s in steps(load_yaml(project / ".github/workflows/ci.yml")["jobs"]["tests"]) if "run" in s]
    (install,) = [i for i, r in enumerate(runs) if "--group test" in r]
    return runs[install + 1 :]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a copy of the project, a venv's bin) with the project installed as ci.yml installs it."""
    root = tmp_path_factory.mktemp("coverage")
    project = shutil.copytree(variant_project(VARIANT), root / "demo-pkg")
    python = make_venv(root / "venv")
    install_into(python, project, extra_args=("--group", f"{project / 'pyproject.toml'}:test"))
    return project, python.parent


def run_steps(project: Path, bin_dir: Path, summary: Path) -> list[subprocess.CompletedProcess[str]]:
    """ci.yml's test steps in bash -e (GitHub's shell), with the venv's python first on PATH, until one fails."""
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GITHUB_STEP_SUMMARY": str(summary)}
    env.pop("VIRTUAL_ENV", None)
    done = []
    for script in ci_test_steps(project):
        proc = subprocess.run(
            ["bash", "-e", "-c", script], cwd=project, env=env, capture_output=True, text=True, check=False
        )
        done.append(proc)
        if proc.returncode:
            break
    return done


def set_fail_under(project: Path, value: int) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert len(re.findall(r"^fail_under = \d+$", text, re.MULTILINE)) == 1, text
    pyproject.write_text(
        re.sub(r"^fail_under = \d+$", f"fail_under = {value}", text, flags=re.MULTILINE), encoding="utf-8"
    )


def total(report: str) -> float:
    (figure,) = re.findall(r"^TOTAL\s.*?(\d+(?:\.\d+)?)%", report, re.MULTILINE)
    return float(figure)


def test_the_generated_tests_pass_ci_coverage_and_its_threshold(installed: tuple[Path, Path], tmp_path: Path) -> None:
    project, bin_dir = installed
    summary = tmp_path / "summary.md"
    done = run_steps(project, bin_dir, summary)
    assert [p.returncode for p in done] == [0, 0, 0], [p.stdout + p.stderr for p in done]
    threshold = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["coverage"]["report"][
        "fail_under"
    ]
    assert total(done[-1].stdout) >= threshold
    # Reported as src/ although the tests imported the installed copy ([tool.coverage.paths]).
    assert "src/demo_pkg/__main__.py" in done[-1].stdout, done[-1].stdout
    table = summary.read_text(encoding="utf-8")
    assert SUMMARY_TOTAL.findall(table) == ["100"], table
    assert r"src/demo\_pkg/\_\_main\_\_.py" in table, table


def test_below_fail_under_the_job_fails_with_the_figures_in_the_summary(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The user raised fail_under to 100, and main() lost its tests: the last step fails, after the
    summary step wrote the figures; 101 is coverage's own error."""
    project = shutil.copytree(installed[0], tmp_path / "demo-pkg")
    (project / "tests" / "test_command.py").unlink()
    set_fail_under(project, 100)
    summary = tmp_path / "summary.md"
    done = run_steps(project, installed[1], summary)
    assert [p.returncode for p in done] == [0, 0, 2], [p.stdout + p.stderr for p in done]
    (figure,) = COVERAGE_FAILURE.findall(done[-1].stdout)
    assert float(figure) == total(done[-1].stdout) < 100
    assert SUMMARY_TOTAL.findall(summary.read_text(encoding="utf-8")) == [f"{round(float(figure))}"]
    set_fail_under(project, 101)
    proc = subprocess.run(
        [installed[1] / "python", "-m", "coverage", "report"], cwd=project, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert "fail_under=101.0 is invalid. Must be between 0 and 100." in proc.stdout + proc.stderr
