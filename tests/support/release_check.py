"""A generated project's release check (scripts/release_check.py), run as its user runs it or imported."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from types import ModuleType

from support.envs import cache_dirs
from support.proc import PYTHON, import_script, tool

STEPS = ["credentials", "clean", "build", "version", "twine check", "wheel contents", "install"]
STEP_LINE = re.compile(r"^(PASS|FAIL)  (\S+(?: \S+)?)\s", re.MULTILINE)


def tool_env(home: Path) -> dict[str, str]:
    """A temporary HOME, the test venv's tools first on PATH, no keyring, no colour, wide lines."""
    return {
        **os.environ,
        "HOME": str(home),
        "PATH": os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", "")]),
        **cache_dirs(),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "NO_COLOR": "1",
        "COLUMNS": "300",
    }


def release_check(
    project: Path, home: Path, *, documented: bool = False, uv_index: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The release check as a user runs it; the caller checks the exit code.

    `python scripts/release_check.py` with the test venv's tools, or with `documented` the command
    the docs give, `uv run scripts/release_check.py` (uv installs the script's PEP 723 tools).
    With `uv_index` (a simple index URL) first among uv's indexes, the stand-ins the meta-package's
    extras name come from it (uv takes a name from the first index that has it); the build backend
    still from PyPI.
    """
    runner = [tool("uv"), "run"] if documented else [PYTHON]
    env = tool_env(home)
    if uv_index:
        env |= {"UV_INDEX": uv_index}
    return subprocess.run(
        [*runner, "scripts/release_check.py"], cwd=project, env=env,
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def step_results(output: str) -> dict[str, str]:
    return {name: verdict for verdict, name in STEP_LINE.findall(output)}


def load_script(project: Path) -> ModuleType:
    """The generated release check as a module (its main() is guarded), to call its functions."""
    path = project / "scripts" / "release_check.py"
    return import_script(path, f"release_check_{project.name.replace('-', '_')}")
