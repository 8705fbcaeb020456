"""The tests', the bench's and the fleet tools' own code passes ruff, with the configuration in pyproject.toml."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.config import TEMPLATE_ROOT
from support.proc import tool


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
