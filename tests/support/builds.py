"""Builds: sdist and wheel of a generated project in a shared build environment, and what checks them."""

from __future__ import annotations

import contextlib
import email.message
import email.parser
import email.utils
import hashlib
import importlib.metadata
import io
import logging
import os
import re
import shutil
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.envs import find_python, install_into, make_venv
from support.proc import PYTHON, commit_new_repo, git, run
from support.render import load_answers, render_once
from support.sharing import shared_folder, shared_once


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path

    def wheel_names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as zf:
            return zf.namelist()

    def sdist_names(self) -> list[str]:
        with tarfile.open(self.sdist) as tf:
            return tf.getnames()

    def sdist_files(self) -> set[str]:
        return sdist_files(self.sdist)

    def wheel_metadata(self) -> email.message.Message:
        with zipfile.ZipFile(self.wheel) as zf:
            (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
            return email.parser.BytesParser().parsebytes(zf.read(name))

    def wheel_metadata_bytes(self) -> bytes:
        with zipfile.ZipFile(self.wheel) as zf:
            (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
            return zf.read(name)


def sdist_files(sdist: Path) -> set[str]:
    """The sdist's files (not folders), as paths below its top folder."""
    with tarfile.open(sdist) as tf:
        return {m.name.split("/", 1)[1] for m in tf.getmembers() if m.isfile()}


def build_environment(requires: list[str], python: str | Path = PYTHON) -> Path:
    """A virtual environment of `python` holding `requires` and build, made once per run: its python.

    Compiled on install: with PYTHONDONTWRITEBYTECODE set, a backend imported from source costs
    every hook subprocess a second or more (setuptools).
    """
    inputs = sorted(requires) if str(python) == PYTHON else [*sorted(requires), str(python)]
    key = hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:16]

    def make(root: Path) -> None:
        venv_python = make_venv(root, python)
        frontend = f"build=={importlib.metadata.version('build')}"  # the frontend the test venv has
        install_into(venv_python, *requires, frontend, extra_args=("--compile-bytecode",))

    return shared_once(shared_folder() / "build-environments" / key, make, inputs=inputs) / "bin" / "python"


def build_dists(project: Path, outdir: Path | None = None, python: str | Path = PYTHON) -> Dists:
    """`python -m build --no-isolation --skip-dependency-check` in the run's environment for the
    project's build requires.

    The same steps as an isolated build (the sdist, then the wheel from the sdist). The environment
    holds exactly `build-system.requires`, so a missing requirement still fails the build; that the
    requires are complete for a real frontend is test_building's isolated-build test. Skipping
    build's check saves two hook processes per build (setuptools: 2.1 s to 1.2 s); see
    docs/decisions.md. Returns exactly one sdist and one wheel.
    """
    outdir = outdir or project / "dist"
    run_build(project, outdir, python)
    (sdist,) = outdir.glob("*.tar.gz")
    (wheel,) = outdir.glob("*.whl")
    return Dists(sdist=sdist, wheel=wheel)


def build_stand_in(root: Path, name: str, version: str, code: str | None = None) -> Path:
    """A tiny distribution's wheel, built by flit-core in its shared build environment: the package
    `name` (as a module name) whose `__init__.py` is `code`, by default a docstring alone."""
    module = name.replace("-", "_")
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text(code or f'"""Stand-in for {name}."""\n', encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.12,<4"]\nbuild-backend = "flit_core.buildapi"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "Stand-in for a test"\n',
        encoding="utf-8",
    )
    return build_dists(root).wheel


def build_sdist(project: Path, outdir: Path) -> Path:
    """`python -m build --sdist` as build_dists() runs it: the sdist alone, nothing compiled."""
    run_build(project, outdir, PYTHON, "--sdist")
    (sdist,) = outdir.glob("*.tar.gz")
    return sdist


def build_requires(project: Path) -> list[str]:
    """The project's `build-system.requires`."""
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]


def run_build(project: Path, outdir: Path, python: str | Path, *options: str) -> None:
    """`python -m build --no-isolation --skip-dependency-check [options]` in the run's environment
    for the project's build requires."""
    python = build_environment(build_requires(project), python)
    # The environment's scripts first on PATH, as in an isolated build (uv-build runs its binary).
    env = {**os.environ, "PATH": os.pathsep.join([str(python.parent), os.environ.get("PATH", "")])}
    args = ["--no-isolation", "--skip-dependency-check", *options, "--outdir", outdir, project]
    run([python, "-m", "build", *args], env=env)


def tag_first_release(project: Path) -> str:
    """`project` committed to a new git repository and tagged v<version answer>, its first release; the tag."""
    tag = f"v{load_answers(project)['version']}"
    commit_new_repo(project, "First release")
    git(project, "tag", "--annotate", tag, "--message", tag)
    return tag


def extension_python(project: Path) -> str | Path:
    """The interpreter an extension builds on: its python_min, as a stable-ABI (abi3) wheel must be
    built (the wheel's tag names the building CPython); the test venv's for every other kind."""
    answers = load_answers(project)
    if answers["project_kind"] != "extension":
        return PYTHON
    found = find_python(answers["python_min"])
    assert found, f"no Python {answers['python_min']} on this machine to build the extension on"
    return found


def build_once(key: str, data: dict[str, Any]) -> tuple[Path, Dists]:
    """Render `data` and build it once per test run, whichever worker asks first.

    xdist may hand a case's tests to any worker, and a build is the suite's main cost.
    """

    def make(root: Path) -> None:
        # The render is shared too: test_rendering reads the very projects the matrix builds.
        project = Path(shutil.copytree(render_once(f"build-{key}", data), root / "demo-pkg", symlinks=True))
        if data.get("version_source") == "git-tag":
            # The version comes from the release tag: the commit of the first release, tagged as RELEASING.md says.
            tag_first_release(project)
        elif data.get("project_kind") == "extension":
            # meson-python's sdist is `meson dist`: it packs the git checkout, so a commit is needed.
            commit_new_repo(project, "First commit")
        build_dists(project, python=extension_python(project))

    project = shared_once(shared_folder() / "builds" / key, make, inputs=data) / "demo-pkg"
    (sdist,) = (project / "dist").glob("*.tar.gz")
    (wheel,) = (project / "dist").glob("*.whl")
    return project, Dists(sdist=sdist, wheel=wheel)


def twine_check(*dists: Path) -> tuple[bool, str]:
    """`twine check --strict` run in this process (no interpreter start, twine imported once).

    Returns (passed, what twine printed and logged): twine's own check, as its CLI calls it.
    """
    from twine.commands.check import check

    output = io.StringIO()
    handler = logging.StreamHandler(output)
    logger = logging.getLogger("twine")
    logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(output):
            failed = check([str(d) for d in dists], strict=True)
    finally:
        logger.removeHandler(handler)
    return not failed, output.getvalue()


def check_wheel_contents(*args: str | Path) -> tuple[int, str]:
    """The check-wheel-contents command run in this process: (exit code, output)."""
    from check_wheel_contents.__main__ import main
    from click.testing import CliRunner

    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exit_code not in (0, 1):
        raise AssertionError(f"check-wheel-contents exited {result.exit_code}: {result.output}") from result.exception
    return result.exit_code, result.output


def command_tests_passed(pytest_output: str) -> set[str]:
    """Which of the generated tests/test_command.py's two runs of the installed command passed, by id
    ("script", "python -m"), in the output of the project's tests run with `pytest -rA`."""
    test = "tests/test_command.py::test_installed_command_prints_its_version"
    return set(re.findall(rf"^PASSED {re.escape(test)}\[(.+)\]$", pytest_output, re.MULTILINE))


def read_author(meta: Any) -> tuple[str, str]:
    """(name, email) from core metadata, whichever way the backend wrote them.

    Most backends write `Author-email: "Name" <email>`; poetry-core writes `Author: Name` and a
    bare `Author-email: email`. Both are valid core metadata.
    """
    (name, address), *rest = email.utils.getaddresses([meta.author_email or ""])
    assert not rest, meta.author_email
    return (name or meta.author or "", address)
