"""Refusals: a bad answer given in process or on copier's command line, and the shape of its message."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.proc import run, tool
from support.render import render_project


def render(template: Path, dst: Path, data: dict[str, Any]) -> Path:
    """`data` rendered from `template` in process; a refusal raises copier's ValueError."""
    return render_project(dst, data, src=template, vcs_ref=None)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


PREFIX = "Validation error for question '{}': "


def assert_prompt_message(message: str, question: str) -> list[str]:
    """copier's prompt shows only the first line, in 80 columns: it must be whole there."""
    first, *rest = message.split("\n")
    assert first.startswith(PREFIX.format(question)), first
    assert len(first) <= 80, first
    assert first != PREFIX.format(question).rstrip(), message  # a rule, then the details
    assert rest, message
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


def copier_cli_in_process(template: Path, dst: Path, *args: str | Path) -> int:
    """`copier copy --defaults ARGS` through copier's own command-line code in this process: its --data
    and --data-file parsing, without a new interpreter (about 1 s each). A refusal raises the ValueError
    whose message the real command prints after "ValueError: ", exiting 1 (copier_copy proves that)."""
    from copier._cli import CopierApp

    _, code = CopierApp.run(
        ["copier", "copy", "--defaults", "--quiet", *map(str, args), str(template), str(dst)], exit=False
    )
    return code


def refused_by_copier(template: Path, dst: Path, question: str, *args: str | Path, real_cli: bool) -> str:
    """The refusal's message, from the real command (`real_cli`) or its code in process; nothing written."""
    if real_cli:
        message = refused_on_cli(copier_copy(template, dst, *args), question)
    else:
        with pytest.raises(ValueError, match=r"^Validation error for question '") as err:
            copier_cli_in_process(template, dst, *args)
        message = str(err.value).strip()
        assert_prompt_message(message, question)
    assert not dst.exists()
    return message


def accepted_by_copier(template: Path, dst: Path, *args: str | Path, real_cli: bool) -> None:
    """The copy succeeds, through the real command (`real_cli`) or its code in process."""
    if real_cli:
        run([tool("copier"), "copy", "--defaults", "--quiet", *args, template, dst])
    else:
        assert copier_cli_in_process(template, dst, *args) == 0
