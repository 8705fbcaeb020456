"""Virtual environments and interpreters: find a Python, make a venv, install into it, the project's dev group."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import tomllib
from functools import cache
from pathlib import Path

import pytest

from support.proc import PYTHON, run, tool
from support.sharing import shared_folder, shared_once


def required_python(version: str) -> Path:
    """find_python(version), or a skip naming what is missing; under CI (CI set) a failure, since a
    skip there would hide that the run never tried that Python."""
    python = find_python(version)
    if python is None:
        message = f"no CPython {version} on this machine"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must have it (.ci/run's machine)")
        pytest.skip(message)
    return python


@cache
def find_python(version: str) -> Path | None:
    """An interpreter of CPython `version` ("3.10") on this machine that runs, or None.

    PATH first, then pyenv's versions (its shims fail for versions that are not selected), then
    the interpreters uv manages; downloads are never attempted.
    """
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += sorted(str(p) for p in pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))
    found = subprocess.run(
        [tool("uv"), "python", "find", "--no-python-downloads", version], capture_output=True, text=True, check=False
    )
    candidates.append(found.stdout.strip() if found.returncode == 0 else None)
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return Path(candidate)
    return None


def make_venv(path: Path, python: str | Path = PYTHON) -> Path:
    """A fresh virtual environment of `python` (uv: no pip inside, fast); returns its python."""
    run([tool("uv"), "venv", "--quiet", "--python", python, path])
    return path / "bin" / "python"


def install_into(python: Path, *requirements: str | Path, extra_args: tuple[str, ...] = ()) -> None:
    """`uv pip install` into `python`'s environment, from outside this repository: its [tool.uv]
    compile-bytecode is for the test venv, not for every environment a test makes and uses once."""
    args = [tool("uv"), "pip", "install", "--quiet", "--python", python, *extra_args, *map(str, requirements)]
    run(args, cwd=Path(tempfile.gettempdir()))


@cache
def cache_dirs() -> dict[str, str]:
    """uv's and pip's caches and uv's interpreters, for subprocesses whose HOME a test swaps:
    without them every build and install there downloads its packages again."""
    return {
        "UV_CACHE_DIR": run([tool("uv"), "cache", "dir"]).stdout.strip(),
        "UV_PYTHON_INSTALL_DIR": run([tool("uv"), "python", "dir"]).stdout.strip(),
        "PIP_CACHE_DIR": run([PYTHON, "-m", "pip", "cache", "dir"]).stdout.strip(),
    }


def dev_environment(project: Path) -> Path:
    """The project's own `dev` dependency group in a virtual environment, made once per run: its bin folder.

    What `uv run` installs there: the tests and every pre-commit hook's tool at the hook's version
    (the hook repositories cannot be cloned here). Compiled on install: with PYTHONDONTWRITEBYTECODE,
    each check-jsonschema call would otherwise spend a second compiling its imports.
    """
    pyproject = project / "pyproject.toml"
    groups = tomllib.loads(pyproject.read_text(encoding="utf-8"))["dependency-groups"]
    key = hashlib.sha256(json.dumps(groups, sort_keys=True).encode()).hexdigest()[:16]

    def make(root: Path) -> None:
        install_into(make_venv(root), extra_args=("--compile-bytecode", "--group", f"{pyproject}:dev"))

    return shared_once(shared_folder() / "dev-environments" / key, make, inputs=groups) / "bin"


def docs_environment(project: Path) -> Path:
    """The project's `docs` dependency group (docs_site) in a virtual environment, made once per run: its bin folder.

    The project itself is not in it (environments are shared): install it beside, e.g. with
    `install_target`, and put that folder on PYTHONPATH, as the docs workflow installs both.
    """
    pyproject = project / "pyproject.toml"
    group = tomllib.loads(pyproject.read_text(encoding="utf-8"))["dependency-groups"]["docs"]
    key = hashlib.sha256(json.dumps(group).encode()).hexdigest()[:16]

    def make(root: Path) -> None:
        install_into(make_venv(root), extra_args=("--compile-bytecode", "--group", f"{pyproject}:docs"))

    return shared_once(shared_folder() / "docs-environments" / key, make, inputs=group) / "bin"


def install_target(project: Path, target: Path) -> Path:
    """`project` built and installed, without its dependencies, into the folder `target` (for PYTHONPATH)."""
    args = [tool("uv"), "pip", "install", "--quiet", "--no-deps", "--python", PYTHON, "--target", target, project]
    run(args, cwd=Path(tempfile.gettempdir()))
    return target
