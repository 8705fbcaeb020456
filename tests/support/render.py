"""Rendering: the template's working tree copied, rendered non-interactively, and the project read back."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import copier
import yaml

from support.config import TEMPLATE_ROOT
from support.sharing import shared_folder, shared_once


def copy_template_tree(dst: Path) -> Path:
    """The template's working tree (tracked or not, minus build and VCS litter) copied to `dst`."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache", "site", "dist"
    )
    shutil.copytree(TEMPLATE_ROOT, dst, ignore=ignore)
    return dst


@cache
def template_source() -> Path:
    """This process's plain copy of the working tree: what tests render from by default.

    Copier clones a git source on every render (about 0.45 s more each); tests about the git
    paths (HEAD, tags, updates) pass their repository as `src`.
    """
    root = Path(tempfile.mkdtemp(prefix="pypi-template-src-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return copy_template_tree(root / "pypi-template")


def render_project(
    dst: Path,
    data: dict[str, Any] | None = None,
    *,
    src: Path | str | None = None,
    vcs_ref: str | None = None,
    **kwargs: Any,
) -> Path:
    """Render the template non-interactively and return the project folder.

    From `template_source()` unless `src` is given. Runs with `unsafe=False`, so any feature
    that would need `--trust` fails here. Copier's exceptions propagate: callers that expect a
    failure use `pytest.raises`.
    """
    copier.run_copy(
        str(src or template_source()),
        dst,
        data=data or {},
        defaults=True,
        unsafe=False,
        quiet=True,
        vcs_ref=vcs_ref,
        **kwargs,
    )
    return dst


def render_once(key: str, data: dict[str, Any], name: str = "demo-pkg") -> Path:
    """Render `data` as `name` once per test run, whichever worker asks first; callers only read it."""
    return (
        shared_once(shared_folder() / "renders" / key, lambda root: render_project(root / name, data), inputs=data)
        / name
    )


def list_files(project: Path) -> set[str]:
    """Every file below `project`, as POSIX paths relative to it."""
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


def project_files(project: Path) -> dict[str, bytes]:
    """Every file of the project but git's own, as POSIX paths relative to it, with its bytes."""
    return {
        p.relative_to(project).as_posix(): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


def load_answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
