"""The scenarios the tests and the benchmark share: answer sets, a fleet, and template repositories.

Answer sets: the matrix of backends and kinds (with the oddest answers), the variants the checkers
run on, the workflow cases, the rehearsal's releases, the releases verify_upload.py checks, and the
fleet (tests/test_fleet.py updates it, bench/run.py --only fleet times the same update). Template
repositories: this template committed and tagged, released once (v1.0.0) or twice (then v1.1.0,
the fleet fix), and the update tests' template (update_template: v1.0.0, a fix, a release
candidate), each made once per run; tests copy or read them, never change them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.builds import tag_first_release
from support.config import (
    ACTIONS_TABLE,
    PYTHON_VERSIONS,
    kind_backends,
    meta_package_backends,
    table,
    version_plugin_backends,
)
from support.proc import commit_new_repo, git
from support.render import copy_template_tree, render_project
from support.sharing import shared_folder, shared_once

# --- Answer sets --------------------------------------------------------------------------------
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
# The oddest command a library may install: every character the rule allows (matrix libraries).
ODD_COMMAND = "acme.odd_tools-cli2"

# Versions spelled every way, valid and not: the version question, the release guard and the
# template-sync check must agree with packaging on each (test_answers, test_check_release_version).
VERSIONS = [
    "0.1.0",
    "1.0.0rc1",
    "1!2.0",
    "1.0.post1",
    "1.0.dev0",
    "1.0a1.post2.dev3",
    "2026.11",
    "0",
    "1.0b2",
    "1.0-rc1",
    "1.0RC1",
    "1.0c1",
    "1.0alpha1",
    "1.0.0-alpha",
    "1.0.dev",
    "1.0-1",
    "1.0_dev1",
    "0!1.0",
    "v1.0",
    "01.0",
    "1.0+local",
    " 1.0",
    "1.0\n",
    "1..0",
    "",
    "latest",
    "1.0.0.0.0",
    "1.0.post1.dev2",
]

# The variants whose generated code, checkers and hooks tests/test_quality.py and
# tests/test_precommit.py check: every answer that changes a generated Python file or a checker's
# input (the kind, TestPyPI and its installer script, the extras (release check), python_min at both
# ends (3.10 reads TOML through tomli), names that differ from the defaults, a version from git tags
# for a library and an extension), each kind with and without TestPyPI. Keywords where pyroma's 10/10
# needs them.
VARIANTS: dict[str, dict[str, Any]] = {
    f"library-{PYTHON_VERSIONS[0]}": {"python_min": PYTHON_VERSIONS[0], "keywords": "acme, tools",
                                      "command_name": "demo-pkg"},
    "library-default": {},
    f"library-odd-names-{PYTHON_VERSIONS[-1]}": {**ODD_ANSWERS, "python_min": PYTHON_VERSIONS[-1],
                                                 "command_name": ODD_COMMAND},
    f"library-pypi-only-git-tag-{PYTHON_VERSIONS[-1]}": {"use_testpypi": False, "python_min": PYTHON_VERSIONS[-1],
                                                         "keywords": "acme", "build_backend": "pdm-backend",
                                                         "development_status": "5 - Production/Stable",
                                                         "version_source": "git-tag"},
    f"meta-pypi-only-{PYTHON_VERSIONS[0]}": {"project_kind": "meta-package", "use_testpypi": False,
                                             "python_min": PYTHON_VERSIONS[0], "extras": {"cli": ["click>=8.1"]},
                                             "keywords": "acme"},
    f"meta-{PYTHON_VERSIONS[-1]}": {"project_kind": "meta-package", "python_min": PYTHON_VERSIONS[-1],
                                   "keywords": "acme", "extras": {}},
    # A documentation site: docs/conf.py is generated Python, and repo-review's docs check applies.
    "library-docs-odd-names": {**ODD_ANSWERS, "docs_site": "sphinx"},
    "meta-docs": {"project_kind": "meta-package", "docs_site": "sphinx", "extras": {"cli": ["click>=8.1"]},
                  "keywords": "acme"},
    # The compiled extensions: their __init__.py, _core.pyi stub and tests, with a command.
    "extension-nanobind-abi3-git-tag": {"project_kind": "extension", "build_backend": "scikit-build-core",
                                        "python_min": "3.12", "keywords": "acme", "command_name": "demo-pkg",
                                        "version_source": "git-tag"},
    "extension-meson-odd-names": {**ODD_ANSWERS, "project_kind": "extension", "build_backend": "meson-python"},
}  # fmt: skip


def variant_project(variant: str) -> Path:
    """VARIANTS[variant] rendered once per run (callers only read it). A version from git tags is
    committed and tagged v0.1.0, its first release, as its build needs (pyroma builds it)."""
    data = VARIANTS[variant]

    def make(root: Path) -> None:
        project = render_project(root / "demo-pkg", data)
        if data.get("version_source") == "git-tag":
            tag_first_release(project)

    return shared_once(shared_folder() / "renders" / f"quality-{variant}", make, inputs=data) / "demo-pkg"


# The extension answers that turn its stable ABI on (includes/computed.yml, stable_abi).
STABLE_ABI = {"python_min": "3.12"}


def matrix_cases() -> list[tuple[str, dict[str, Any]]]:
    """(id, answers) for the defaults alone, every buildable build_backend x project_kind (each
    backend's library installs a command; the defaults: none), and the library of every backend that
    can read its version from git tags (built from a tagged commit)."""
    cases: list[tuple[str, dict[str, Any]]] = [("defaults", {})]
    for backend in kind_backends("library"):
        library = {"build_backend": backend, "project_kind": "library", "command_name": ODD_COMMAND}
        cases.append((f"{backend}-library", library))
        if backend in meta_package_backends():
            cases.append(
                (
                    f"{backend}-meta",
                    {"build_backend": backend, "project_kind": "meta-package", "extras": META_EXTRAS},
                )
            )
    # One compiled extension per backend (tests/test_extension.py builds them): nanobind at 3.12, its
    # stable ABI (abi3); meson-python at the default python_min.
    for backend in kind_backends("extension"):
        extension = {"build_backend": backend, "project_kind": "extension"}
        # meson-python's with a documentation site (scikit-build-core's: its git-tag case below).
        shape = STABLE_ABI if backend == "scikit-build-core" else {"docs_site": "sphinx"}
        cases.append((f"{backend}-extension", {**extension, **shape}))
    for backend in version_plugin_backends():
        # Each a command-line tool too; hatchling's, setuptools' and scikit-build-core's also with a
        # documentation site (setuptools-scm puts every tracked file in the sdist: docs/ must be pruned).
        # An extension backend's is an extension at the default python_min (the other one: abi3).
        kind = "library" if backend in kind_backends("library") else "extension"
        tool = {
            "build_backend": backend,
            "project_kind": kind,
            "version_source": "git-tag",
            "command_name": ODD_COMMAND,
        }
        site = {"docs_site": "sphinx"} if backend in ("hatchling", "setuptools", "scikit-build-core") else {}
        cases.append((f"{backend}-git-tag", {**tool, **site}))
    # The documentation site with each kind (hatchling's sdist takes docs/ from the tree).
    cases.append(("sphinx-library", {"build_backend": "hatchling", "project_kind": "library", "docs_site": "sphinx"}))
    meta = {"build_backend": "setuptools", "project_kind": "meta-package", "extras": META_EXTRAS}
    cases.append(("sphinx-meta", {**meta, "docs_site": "sphinx"}))
    return cases


def matrix_case_answers(case_id: str) -> dict[str, Any]:
    """The answers a matrix case renders with: none for "defaults", else its choices and ODD_ANSWERS."""
    data = dict(matrix_cases())[case_id]
    return data if case_id == "defaults" else {**ODD_ANSWERS, **data}


# The workflow cases (tests/test_workflows.py, tests/test_publish_workflow.py): every answer that
# changes the workflows.
def workflow_cases() -> list[Any]:
    """use_testpypi x project_kind x two backends, and the first and last with version_source git-tag;
    names that differ from each other on purpose; a library published through TestPyPI installs a
    command."""
    # The names every case shares: a dotted, capitalised owner and a repository named apart.
    names = {"project_name": "acme.tools", "github_owner": "Acme-Corp", "repository_name": "acme-tools-repo"}
    cases = []

    def add(case_id: str, **data: Any) -> None:
        if data.get("project_kind") == "meta-package":
            data["extras"] = META_EXTRAS
        cases.append(pytest.param((case_id, {**names, **data}), id=case_id))

    for use_testpypi in (True, False):
        for kind in ("library", "meta-package"):
            for backend in ("setuptools", "hatchling"):
                # Both verify jobs of a library run its command; published to PyPI alone, none.
                command = {"command_name": "acme-tools"} if kind == "library" and use_testpypi else {}
                add(f"{'testpypi' if use_testpypi else 'pypi-only'}-{kind}-{backend}", project_kind=kind,
                    build_backend=backend, use_testpypi=use_testpypi,
                    python_min="3.12" if backend == "hatchling" else "3.11", **command)  # fmt: skip
    # version_source git-tag: the checkouts that build fetch every commit and tag.
    for case_id, data in [(cases[0].id, cases[0].values[0][1]), (cases[-1].id, cases[-1].values[0][1])]:
        add(f"{case_id}-git-tag", **{**data, "version_source": "git-tag"})
    # The documentation site adds docs.yml (and its actions in dependabot.yml).
    for kind in ("library", "meta-package"):
        add(f"docs-{kind}", project_kind=kind, build_backend="hatchling", python_min="3.12", docs_site="sphinx")
    # Extensions: platform wheels by cibuildwheel. scikit-build-core from 3.12 builds abi3 wheels
    # (stable_abi), with a command, through TestPyPI; meson-python on 3.11, version-specific, PyPI
    # only, its import package named apart from the distribution (the wheel's .libs/ is not).
    for use_testpypi, backend, python_min in [(True, "scikit-build-core", "3.12"), (False, "meson-python", "3.11")]:
        extra = {"command_name": "acme-tools"} if use_testpypi else {"import_name": "acme_core"}
        add(f"{'testpypi' if use_testpypi else 'pypi-only'}-extension-{backend}", project_kind="extension",
            build_backend=backend, use_testpypi=use_testpypi, python_min=python_min, **extra)  # fmt: skip
    # The shapes no case above combines: an extension with the docs site and git-tag, version-specific
    # (3.10, below the stable ABI), the odd command name, and a default branch other than main.
    add("docs-extension-git-tag", project_kind="extension", build_backend="scikit-build-core", use_testpypi=True,
        python_min="3.10", version_source="git-tag", docs_site="sphinx", command_name=ODD_COMMAND,
        default_branch="trunk")  # fmt: skip
    return cases


# The manual release rehearsed against real indexes (tests/test_rehearsal.py): odd but valid text
# must reach the index's metadata exactly. The meta-package's extras name stand-in distributions
# that the test builds and uploads. The default backend for the library; hatchling (Metadata-Version
# 2.5) for the meta-package.
REHEARSAL_ANSWERS = {"description": 'Rehearsed "release" of 100% \\ odd text — ünïcode', "user_name": "Zoë O'Brien"}
REHEARSAL_STAND_INS = {"rehearsal-client": "0.3.0", "rehearsal-cli": "1.0.0"}
REHEARSAL_EXTRAS = {"clients": ["rehearsal-client>=0.3"], "cli": ["rehearsal-cli>=1.0"]}
REHEARSAL_CASES = {
    "library": {**REHEARSAL_ANSWERS, "project_name": "rehearsal-lib"},
    "meta": {
        **REHEARSAL_ANSWERS, "project_name": "rehearsal-meta", "project_kind": "meta-package",
        "extras": REHEARSAL_EXTRAS, "build_backend": "hatchling",
    },
}  # fmt: skip
# Checks that only need a release check to fail use the fastest backend.
FASTEST_BACKEND = {"build_backend": "uv-build"}

# The releases verify_upload.py checks on an index (tests/test_integrity.py). uv-build: the steps
# under test are the same for every backend, and it builds fastest. `acme-meta` needs
# `acme-extra>=1.0` through its only extra; `acme-extra` 1.0.0 is a stand-in.
VERIFIED_LIBRARY = {"project_name": "acme-verify", "version": "0.3.0", "build_backend": "uv-build"}
VERIFIED_COMMAND = {**VERIFIED_LIBRARY, "command_name": "acme-verify"}
VERIFIED_META = {"project_name": "acme-meta", "version": "0.3.0", "build_backend": "uv-build",
                 "project_kind": "meta-package", "extras": {"cli": ["acme-extra>=1.0"]}}  # fmt: skip


def fleet_meta(backend: str, **answers: Any) -> dict[str, Any]:
    return {"project_kind": "meta-package", "build_backend": backend, "extras": META_EXTRAS, **answers}


# The fleet: ten projects of one release, by name. tests/test_fleet.py edits and updates them;
# bench/run.py --only fleet times the same update.
FLEET_ANSWERS: dict[str, dict[str, Any]] = {
    "lib-setuptools": {},
    "lib-hatchling": {"build_backend": "hatchling"},
    "lib-flit-core": {"build_backend": "flit-core"},
    "lib-pdm-pypi-only": {"build_backend": "pdm-backend", "use_testpypi": False},
    "lib-uv-build": {"build_backend": "uv-build"},
    "lib-poetry-core": {"build_backend": "poetry-core", "python_min": "3.12"},
    "meta-setuptools": fleet_meta("setuptools"),
    "meta-hatchling-pypi-only": fleet_meta("hatchling", use_testpypi=False),
    "meta-pdm-backend": fleet_meta("pdm-backend"),
    "meta-uv-pypi-only": fleet_meta("uv-build", use_testpypi=False),
}


# A typed distribution (it ships py.typed) that no checker of the dev group depends on: mypy finds it
# only where the project's own dependencies are installed.
TYPED_DEPENDENCY = "platformdirs>=4"
TYPED_LIBRARY_CODE = '''"""Where acme-typed keeps its cache."""

from pathlib import Path

from platformdirs import user_cache_path


def cache_folder() -> Path:
    return user_cache_path("acme-typed")
'''
TYPED_META_TEST = '''"""The paths extra brings platformdirs, with its types."""

from pathlib import Path

from platformdirs import user_cache_path


def test_the_cache_folder_is_named_for_the_project() -> None:
    folder: Path = user_cache_path("acme-typed")
    assert folder.name == "acme-typed"
'''


def render_importing_a_typed_dependency(dst: Path, kind: str) -> Path:
    """A library whose code imports a typed [project] dependency, or a meta-package whose test
    imports a typed requirement of one of its extras (uv-build: the quickest build to install)."""
    if kind == "library":
        project = render_project(dst / "acme-typed", {"build_backend": "uv-build"})
        pyproject = project / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8")
        pyproject.write_text(
            text.replace("dependencies = []", f'dependencies = ["{TYPED_DEPENDENCY}"]'), encoding="utf-8"
        )
        (project / "src" / "acme_typed" / "paths.py").write_text(TYPED_LIBRARY_CODE, encoding="utf-8")
    else:
        data = {"project_kind": kind, "build_backend": "uv-build", "extras": {"paths": [TYPED_DEPENDENCY]}}
        project = render_project(dst / "acme-typed", data)
        (project / "tests" / "test_paths.py").write_text(TYPED_META_TEST, encoding="utf-8")
    return project


# --- Template repositories ---------------------------------------------------------------------
FLEET_RELEASES = ("v1.0.0", "v1.1.0")
FLEET_PIN = "checkout"  # the action whose pin v1.1.0 moves (every generated workflow uses it)
FLEET_NEW_PIN = {"sha": "0123456789abcdef0123456789abcdef01234567", "version": "v7.9.9"}
FLEET_FIX_STEP = "List the files to release (template fix in v1.1.0)"


def make_template_repo(dst: Path, tag: str | None = "v1.0.0") -> Path:
    """A throwaway git repository holding this template, committed and optionally tagged.

    Tests that need tags build their own repository: CI clones may be shallow or tagless.
    """
    copy_template_tree(dst)
    commit_new_repo(dst, "template")
    if tag:
        git(dst, "tag", tag)
    return dst


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
    workflow.write_text(
        text.replace(anchor, f"      - name: {FLEET_FIX_STEP}\n        run: ls -l dist/\n{anchor}"), encoding="utf-8"
    )


def released_template(last: str = FLEET_RELEASES[-1]) -> Path:
    """This template as a git repository released up to `last`, made once per run; callers only read it.

    v1.0.0 is the working tree; v1.1.0 adds the fleet fix (release_fleet_fix). Tests that change a
    template, or need other releases, build their own with make_template_repo.
    """
    assert last in FLEET_RELEASES, last

    def make(repo: Path) -> None:
        make_template_repo(repo, tag=FLEET_RELEASES[0])
        if last == FLEET_RELEASES[1]:
            release_fleet_fix(repo)
            git(repo, "commit", "--quiet", "--all", "--message", f"Template fix ({FLEET_RELEASES[1]})")
            git(repo, "tag", FLEET_RELEASES[1])

    return shared_once(shared_folder() / "templates" / last / "pypi-template", make)


def fleet_copy(name: str, data: dict[str, Any], release: str = FLEET_RELEASES[0]) -> Path:
    """Project `name` copied from released_template() at `release` (the first by default) through a
    `git+file://` URL and committed, as its maintainers have it; made once per run (tests copy it
    or read it, never change it)."""
    template = released_template()

    def make(root: Path) -> None:
        project = render_project(root / name, data, src=f"git+file://{template}", vcs_ref=release)
        commit_new_repo(project, "New project from pypi-template")

    return shared_once(shared_folder() / "fleet" / f"copies-{release}" / name, make, inputs=data) / name


# The release before command_name (tests/test_command.py): the template without the question, the
# computed `command` and every `{% if command %}` block or file; a `{%- if` block takes the
# whitespace before it, as Jinja drops it when the block is false.
COMMAND_BLOCK = re.compile(r"\s*\{%- if command %\}.*?\{%-? endif %\}|\{% if command %\}.*?\{%-? endif %\}", re.DOTALL)


def remove_command_name(repo: Path) -> dict[Path, bytes]:
    """Take command_name out of the template in `repo`: {every file it changed or deleted: its bytes}."""
    changed: dict[Path, bytes] = {}

    def edit(path: Path, new: str) -> None:
        changed[path] = path.read_bytes()
        path.write_text(new, encoding="utf-8")

    config = repo / "copier.yml"
    text = config.read_text(encoding="utf-8")
    text = text[: text.index("\ncommand_name:\n")] + text[text.index("\nextras:\n") :]
    # project_kind's validator: the questions a meta-package is not asked.
    edit(config, text.replace("['import_name', 'command_name']", "['import_name']"))
    answers = repo / "includes" / "answers.jinja"
    edit(answers, answers.read_text(encoding="utf-8").replace(" command_name ", " "))
    computed = repo / "includes" / "computed.yml"
    text = computed.read_text(encoding="utf-8")
    edit(computed, text[: text.index("\n# The console script")])
    for path in sorted((repo / "template").rglob("*")):
        if path.is_file() and "{% if command %}" in path.name:
            changed[path] = path.read_bytes()
            path.unlink()
        elif path.is_file() and "if command %}" in (text := path.read_text(encoding="utf-8")):
            edit(path, COMMAND_BLOCK.sub("", text))
    return changed


# The update tests' template (tests/test_update*.py): v1.0.0, then v1.1.0 with a new pin for one
# action and one added step, then a release candidate nobody is offered unless they ask.
TAG_A = "v1.0.0"
TAG_B = "v1.1.0"
RELEASE_CANDIDATE = "v1.2.0rc1"
WORKFLOW_TEMPLATE = Path("template", ".github", "workflows", "publish.yml.jinja")
NEW_SHA = "0123456789abcdef0123456789abcdef01234567"
NEW_VERSION = "v99.0.0"
FIX_STEP = "Template fix released in v1.1.0"


def pinned_action(repo: Path) -> str:
    """The first action of the `actions` table that the publish workflow template uses."""
    text = (repo / WORKFLOW_TEMPLATE).read_text(encoding="utf-8")
    used = [key for key, pin in table("actions").items() if key in text or pin["sha"] in text]
    assert used, f"{WORKFLOW_TEMPLATE} uses no action of the `actions` table"
    return used[0]


def add_step(workflow: str, name: str) -> str:
    """`workflow` with a new first step in its first job, indented like the steps around it."""
    lines = workflow.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "steps:")
    first = next(line for line in lines[start + 1 :] if line.lstrip().startswith("- "))
    indent = first[: len(first) - len(first.lstrip())]
    lines.insert(start + 1, f"{indent}- name: {name}\n{indent}  run: python -m pip --version\n")
    return "".join(lines)


def release_template_fix(repo: Path, tag: str, action: str) -> None:
    """Commit and tag the fix users update for: a new pin for `action` and one added step."""
    pin = table("actions")[action]
    for name in git(repo, "grep", "--files-with-matches", pin["sha"]).splitlines():
        path = repo / name
        text = path.read_text(encoding="utf-8")
        # The version next to the SHA: `version:` in the table, a `# vX` comment in a workflow.
        text = re.sub(
            rf"{pin['sha']}(\s+(?:#|version:)\s*){re.escape(pin['version'])}", rf"{NEW_SHA}\g<1>{NEW_VERSION}", text
        )
        path.write_text(text.replace(pin["sha"], NEW_SHA), encoding="utf-8")
    workflow = repo / WORKFLOW_TEMPLATE
    workflow.write_text(add_step(workflow.read_text(encoding="utf-8"), FIX_STEP), encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", f"Fix publish.yml ({tag})")
    git(repo, "tag", tag)


def make_project(parent: Path, src: Path, data: dict[str, Any] | None = None, vcs_ref: str = TAG_A) -> Path:
    """A project generated at `vcs_ref` and committed, as a user has it after the first copy."""
    return commit_new_repo(
        render_project(parent / "demo-pkg", data, src=src, vcs_ref=vcs_ref), "Generate from pypi-template"
    )


@dataclass(frozen=True)
class TemplateRepo:
    path: Path
    action: str  # the action whose pin the fix at TAG_B changes
    first_copy: Path  # make_project() from it at TAG_A: tests take copies, never this one
    latest_copy: Path  # make_project() from it at TAG_B, with the same (default) answers: read only

    @property
    def old_sha(self) -> str:
        return table("actions")[self.action]["sha"]

    def project_in(self, parent: Path) -> Path:
        """A project as the user has it after the first copy at TAG_A (committed), in `parent`."""
        return shutil.copytree(self.first_copy, parent / "demo-pkg", symlinks=True)


def update_template() -> TemplateRepo:
    """Tag A = this template; tag B = A plus the publish.yml fix; then the release candidate. Made
    once per run (for every update module): tests only clone it and copy its first project, which
    spares each a render from git. Not released_template(): it has no release candidate, and its
    other readers (tests/test_fleet.py, test_renovate.py, test_documented_commands.py) would see one."""

    def make(root: Path) -> None:
        repo = make_template_repo(root / "pypi-template")
        action = pinned_action(repo)
        release_template_fix(repo, TAG_B, action)
        # A release candidate after it: nobody is offered it unless they ask (test_check_update...).
        git(repo, "commit", "--quiet", "--allow-empty", "--message", "next release candidate")
        git(repo, "tag", RELEASE_CANDIDATE)
        (root / "action").write_text(action, encoding="utf-8")
        make_project(root / "first-copy", repo)
        make_project(root / "latest-copy", repo, vcs_ref=TAG_B)

    root = shared_once(shared_folder() / "update-template", make)
    action = (root / "action").read_text(encoding="utf-8")
    return TemplateRepo(
        root / "pypi-template", action, root / "first-copy" / "demo-pkg", root / "latest-copy" / "demo-pkg"
    )


# --- The fleet's members: what their maintainers did after the first copy ---------------------
# tests/test_fleet.py updates each with Renovate's command; tests/test_rollout.py rolls them out.
PUBLISH, CI = ".github/workflows/publish.yml", ".github/workflows/ci.yml"
README_LINE = "Maintainers' notes, written after the first copy."
DEPENDENCY = "requests>=2.31"
USER_SHA = "fedcba9876543210fedcba9876543210fedcba98"


def edit_text(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def readme(project: Path) -> None:
    with (project / "README.md").open("a", encoding="utf-8") as fh:
        fh.write(f"\n{README_LINE}\n")


def dependency(project: Path) -> None:
    edit_text(project, "pyproject.toml", "dependencies = []", f'dependencies = ["{DEPENDENCY}"]')


def tools(project: Path) -> None:
    edit_text(project, "pyproject.toml", "line-length = 100", "line-length = 120")
    with (project / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[tool.pylint.format]\nmax-line-length = 120\n")  # a table the template never writes


def publish_line(project: Path) -> None:
    """A line of publish.yml the release does not touch: the build job's timeout."""
    edit_text(project, PUBLISH, "    timeout-minutes: 15\n", "    timeout-minutes: 25\n")


def pin_bump(project: Path) -> None:
    """The line the release moves, bumped by hand (or by a bot told to leave it alone)."""
    edit_text(project, PUBLISH, table("actions")[FLEET_PIN]["sha"], USER_SHA)


def no_ci(project: Path) -> None:
    git(project, "rm", "--quiet", CI)


EDITS: dict[str, Callable[[Path], None]] = {
    "readme": readme, "dependency": dependency, "tools": tools,
    "publish-line": publish_line, "pin-bump": pin_bump, "no-ci": no_ci,
}  # fmt: skip


@dataclass(frozen=True)
class Member:
    name: str
    answers: dict[str, Any]
    edits: tuple[str, ...]

    @property
    def conflicts(self) -> bool:
        return "pin-bump" in self.edits


# What each member's maintainers did after the first copy (the members' answers: scenarios.FLEET_ANSWERS).
EDITS_OF = {
    "lib-setuptools": (), "lib-hatchling": ("readme",), "lib-flit-core": ("dependency", "readme"),
    "lib-pdm-pypi-only": ("tools",), "lib-uv-build": ("publish-line", "dependency"),
    "lib-poetry-core": ("pin-bump", "readme"),
    "meta-setuptools": ("no-ci",), "meta-hatchling-pypi-only": ("readme", "dependency", "tools"),
    "meta-pdm-backend": ("pin-bump", "tools"), "meta-uv-pypi-only": ("no-ci", "publish-line", "readme"),
}  # fmt: skip
FLEET = [Member(name, answers, EDITS_OF[name]) for name, answers in FLEET_ANSWERS.items()]


def set_answers(project: Path, **values: str) -> None:
    """Record `values` (`_commit`, `_src_path`) in the answers file, as a copy with them has it, and commit."""
    path = project / ".copier-answers.yml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, count = re.subn(rf"^{key}: .*$", f"{key}: {value}", text, flags=re.MULTILINE)
        assert count == 1, key
    path.write_text(text, encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "As copied")


def maintained_copy(member: Member, dst: Path) -> Path:
    """The member's first copy at `dst`, with its maintainers' edits committed."""
    project = shutil.copytree(fleet_copy(member.name, member.answers), dst, symlinks=True)
    for edit in member.edits:
        EDITS[edit](project)
    git(project, "commit", "--quiet", "--all", "--allow-empty", "--message", "Our own work")
    return project
