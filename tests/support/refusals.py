"""Refusals: a bad answer given in process or on copier's command line, and the shape of its message."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.proc import tool
from support.render import render_project

# A bad copyright_year (asked after every text question) stops copier right after the question
# under test was validated: fast, writes nothing, and tells accepted from refused.
STOP = {"copyright_year": "not-a-year"}


def render(template: Path, dst: Path, data: dict[str, Any]) -> Path:
    return render_project(dst, data, src=template, vcs_ref=None)


def refusal(template: Path, dst: Path, question: str, value: Any) -> str | None:
    """copier's validation message for `value`, or None when the question accepted it."""
    with pytest.raises(ValueError, match=r"^Validation error for question '") as err:
        render(template, dst, {question: value, **STOP})
    assert not dst.exists()
    message = str(err.value)
    if message.startswith("Validation error for question 'copyright_year'"):
        return None
    assert message.startswith(f"Validation error for question '{question}'"), message
    return message


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


PREFIX = "Validation error for question '{}': "


def assert_prompt_message(message: str, question: str) -> list[str]:
    """copier's prompt shows only the first line, in 80 columns: it must be whole there."""
    first, *rest = message.split("\n")
    assert first.startswith(PREFIX.format(question)) and len(first) <= 80, first
    assert first != PREFIX.format(question).rstrip() and rest, message  # a rule, then the details
    return rest


def copier_copy(template: Path, dst: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`copier copy --defaults ARGS` as a user types it; the caller checks the exit code."""
    return subprocess.run([tool("copier"), "copy", "--defaults", *map(str, args), str(template), str(dst)],
                          capture_output=True, text=True, check=False)  # fmt: skip


def refused_on_cli(proc: subprocess.CompletedProcess[str], question: str) -> str:
    """The message of a refusal on the command line: exit code 1, the rule first, then details."""
    assert proc.returncode == 1, proc.stderr
    message = proc.stderr[proc.stderr.index("ValueError: ") + len("ValueError: ") :].strip()
    assert_prompt_message(message, question)
    return message


def data_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yml"
    path.write_text(text, encoding="utf-8")
    return path
