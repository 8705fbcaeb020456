"""The tests', the bench's and the fleet tools' own code passes ruff, with the configuration in pyproject.toml.

What organisations copy (fleet/*.py) is held to the generated projects' rules too: `mypy --strict`
at both ends of the Python range it states, nothing newer than its oldest (vermin), and it starts
on that Python.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
from pathlib import Path

import pytest

from support.checkers import vermin
from support.clients import mypy_cache
from support.config import PYTHON_VERSIONS, TEMPLATE_ROOT
from support.envs import required_python
from support.proc import run, tool

FLEET_TOOLS = sorted(TEMPLATE_ROOT.glob("fleet/*.py"))


def own_files() -> list[Path]:
    """Every Python file of tests/ (support/ included), bench/ and fleet/ (what organisations copy)."""
    files = [
        *TEMPLATE_ROOT.glob("tests/*.py"),
        *TEMPLATE_ROOT.glob("tests/support/*.py"),
        *TEMPLATE_ROOT.glob("bench/*.py"),
        *TEMPLATE_ROOT.glob("fleet/*.py"),
    ]
    return sorted(files)


def test_own_files_are_found() -> None:
    names = {f.relative_to(TEMPLATE_ROOT).as_posix() for f in own_files()}
    assert {"tests/conftest.py", "tests/support/proc.py", "bench/run.py", "fleet/status.py"} <= names


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff_passes_on_own_code(command: list[str]) -> None:
    proc = subprocess.run(
        [tool("ruff"), *command, *map(str, own_files())],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def stated_minimum(script: Path) -> str:
    """The oldest Python a fleet tool's docstring promises ("Python 3.10+")."""
    (version,) = re.findall(r"\bPython (3\.\d+)\+", script.read_text(encoding="utf-8"))
    return version


@pytest.mark.parametrize("script", FLEET_TOOLS, ids=lambda p: p.name)
def test_fleet_tools_pass_mypy_strict_and_need_nothing_newer_than_they_state(script: Path) -> None:
    oldest = stated_minimum(script)
    mypy = importlib.metadata.version("mypy")
    for version in sorted({oldest, PYTHON_VERSIONS[-1]}):
        cache = mypy_cache(mypy, version)
        proc = subprocess.run(
            [tool("mypy"), "--strict", "--python-version", version, "--cache-dir", str(cache), script],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"Python {version}:\n{proc.stdout}{proc.stderr}"
    proc = vermin(oldest, script)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", FLEET_TOOLS, ids=lambda p: p.name)
def test_fleet_tools_start_on_the_oldest_python_they_state(script: Path) -> None:
    python = required_python(stated_minimum(script))
    assert "usage:" in run([python, script, "--help"]).stdout


def test_fleet_tools_are_found() -> None:
    assert [p.name for p in FLEET_TOOLS] == ["status.py"]
