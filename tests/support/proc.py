"""Processes and git: run commands and tools, drive git, set what subprocesses see, import a script."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from plumbum import local

# The interpreter running the tests; generated projects are installed with it.
PYTHON = sys.executable


def run(cmd: list[str | Path], cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command and fail with its whole output when it exits non-zero."""
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def tool(name: str) -> str:
    """Path of a console script installed beside the test interpreter."""
    path = Path(PYTHON).parent / name
    return str(path) if path.exists() else shutil.which(name) or name


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo).stdout.strip()


def commit_new_repo(folder: Path, message: str) -> Path:
    """`folder` made a git repository with everything in it committed; returns `folder`."""
    git(folder, "init", "--quiet")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--message", message)
    return folder


def setenv(mp: pytest.MonkeyPatch, name: str, value: str) -> None:
    """Set `name` for subprocesses, and for the git commands copier runs in process.

    plumbum (copier runs git through it) copies os.environ once, when it is imported.
    """
    mp.setenv(name, value)
    mp.setitem(local.env, name, value)


def import_script(path: Path, name: str) -> ModuleType:
    """The script at `path` imported as module `name`, to call its functions (its main() is guarded).

    An explicit loader: a template file's name need not end in `.py`.
    """
    spec = importlib.util.spec_from_loader(name, importlib.machinery.SourceFileLoader(name, str(path)))
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and annotations look their module up by name
    spec.loader.exec_module(module)
    return module
