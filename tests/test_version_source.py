"""version_source: git-tag takes the version from the release tag through the backend's own plugin.

The classic failures are impossible, each shown with the real backend: a wheel built from the sdist
outside git keeps the sdist's version; a commit after the tag builds a `.devN` version with no
`+local` part; a shallow or tagless checkout stops the build or the release guard with a message
that says why. Backends without a plugin refuse the answer, and an update from the release before
the question keeps a project byte for byte, or switches it on when asked.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml

from scenarios import matrix_case_answers
from support.builds import (
    Dists,
    build_dists,
    build_environment,
    build_once,
    build_requires,
    build_sdist,
    run_build,
    tag_first_release,
)
from support.clients import project_mypy_cache
from support.config import TEMPLATE_ROOT, backend_names, kind_backends, table, version_plugin_backends
from support.proc import PYTHON, git, run, tool
from support.refusals import render
from support.release_check import load_script
from support.render import copy_template_tree, load_answers, project_files, render_once, render_project
from support.updating import ANSWERS_FILE, copier_cli, user_owned
from support.wheels import metadata_wheel

PLUGIN_BACKENDS = version_plugin_backends()
ARCHIVE_BACKENDS = [name for name in PLUGIN_BACKENDS if table("backends")[name].get("git_archive")]
NO_PLUGIN = [name for name in backend_names() if name not in PLUGIN_BACKENDS]
COMPILED = set(kind_backends("extension"))
GUARD = Path(".github", "scripts", "check_release_version.py")
# The last commit of this template before version_source: the release projects update from.
RELEASE_BEFORE = "af118b1efd485c0d642cda14adcb91ab2e9e267c"


def sdist_version(sdist: Path) -> str:
    """The version in the sdist's PKG-INFO."""
    with tarfile.open(sdist) as tf:
        (member,) = [m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
        pkg_info = tf.extractfile(member)
        assert pkg_info
        line = next(line for line in pkg_info.read().decode().splitlines() if line.startswith("Version: "))
    return line.removeprefix("Version: ")


def versions(dists: Dists) -> tuple[str, str]:
    """(sdist's PKG-INFO version, wheel's METADATA version)."""
    return sdist_version(dists.sdist), str(dists.wheel_metadata()["Version"])


def built_versions(project: Path, outdir: Path, backend: str) -> set[str]:
    """The versions a build of `project` writes into `outdir`: the sdist's and the wheel's, or for a
    compiled backend the sdist's alone. The version is fixed when the sdist is made and the wheel
    built from it reads PKG-INFO (the first test below compiles that); a compile here would add
    nothing but a minute."""
    if backend in COMPILED:
        return {sdist_version(build_sdist(project, outdir))}
    return set(versions(build_dists(project, outdir)))


def tagged_project(backend: str, parent: Path) -> Path:
    """A writable copy of the matrix's git-tag case of `backend`: committed and tagged v0.1.0, unbuilt."""
    case_id = f"{backend}-git-tag"
    project = shutil.copytree(render_once(f"build-{case_id}", matrix_case_answers(case_id)), parent / "demo-pkg")
    assert tag_first_release(project) == "v0.1.0"
    return project


def build(project: Path, outdir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """The isolated build a user or CI runs (`python -m build`); the caller checks the exit code."""
    return subprocess.run(
        [PYTHON, "-m", "build", "--installer", "uv", *options, "--outdir", outdir, project],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


# --- Which backends offer it ---------------------------------------------------------------------
def test_the_backends_table_decides_who_offers_git_tag() -> None:
    """setuptools-scm, hatch-vcs, pdm-backend's own scm source and scikit-build-core's setuptools-scm
    provider; flit-core, poetry-core, uv-build and meson-python have no plugin in the backend itself."""
    assert PLUGIN_BACKENDS == ["setuptools", "hatchling", "pdm-backend", "scikit-build-core"]
    assert table("backends")["pdm-backend"]["version_plugin"] == []  # built in: nothing to add
    # A backend with a plugin says whether it reads .git_archival.txt (GitHub's source archives).
    assert {name: table("backends")[name].get("git_archive") for name in PLUGIN_BACKENDS} == {
        "setuptools": True, "hatchling": True, "pdm-backend": False, "scikit-build-core": True
    }  # fmt: skip


@pytest.mark.parametrize("backend", NO_PLUGIN)
def test_git_tag_is_refused_without_a_plugin_and_nothing_written(backend: str, tmp_path: Path) -> None:
    dst = tmp_path / "project"
    kind = table("backends")[backend]["kinds"][0]  # an extension backend builds an extension only
    with pytest.raises(ValueError, match="version_source") as err:
        render(TEMPLATE_ROOT, dst, {"project_kind": kind, "build_backend": backend, "version_source": "git-tag"})
    first, *details = str(err.value).split("\n")
    # copier's own prefix for a disabled choice, then the rule (the backends that build this kind and
    # have a plugin): the prompt's 80 columns.
    offered = "scikit-build-core" if kind == "extension" else "setuptools, hatchling or pdm-backend"
    assert first == f"Invalid choice for 'version_source': needs {offered}", first
    assert len(first) <= 80
    assert f'version_source "git-tag": build_backend {backend} has no plugin' in details[0]
    assert f"{offered.replace(' or ', ', ')}, or version_source=pyproject" in details[1]
    assert not dst.exists()


# --- The builds ------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("backend", PLUGIN_BACKENDS)
def test_wheel_built_from_the_sdist_outside_git_keeps_the_tag_version(backend: str) -> None:
    """`python -m build` builds the wheel from the sdist, unpacked in a temporary folder (build's
    `build-via-sdist-*`): no git repository there, so the plugin read PKG-INFO. The run's shared
    build is that wheel; a second build of the unpacked sdist would repeat it (a compile, for
    scikit-build-core)."""
    _, dists = build_once(f"{backend}-git-tag", matrix_case_answers(f"{backend}-git-tag"))
    outside = subprocess.run(["git", "rev-parse"], cwd=tempfile.gettempdir(), capture_output=True, check=False)
    assert outside.returncode != 0, f"{tempfile.gettempdir()} is in a git repository"
    with tarfile.open(dists.sdist) as sdist:
        assert not [name for name in sdist.getnames() if "/.git/" in name or name.endswith("/.git")]
    assert versions(dists) == ("0.1.0", "0.1.0")


@pytest.mark.slow
@pytest.mark.parametrize("backend", PLUGIN_BACKENDS)
def test_a_commit_after_the_tag_builds_a_dev_version_without_local_part(backend: str, tmp_path: Path) -> None:
    project = tagged_project(backend, tmp_path)
    with (project / "CHANGELOG.md").open("a", encoding="utf-8") as fh:
        fh.write("\nUnreleased work.\n")
    # Uncommitted at the tag: the next version's .dev0, never 0.1.0 with code the tag does not hold.
    assert sdist_version(build_sdist(project, tmp_path / "uncommitted")) == "0.1.1.dev0"
    git(project, "commit", "--quiet", "--all", "--message", "Work after the release")
    # PyPI and TestPyPI refuse `0.1.1.dev1+g1234abc`: the release guard CI runs passes this one.
    assert built_versions(project, tmp_path / "dist", backend) == {"0.1.1.dev1"}
    proc = run([PYTHON, GUARD, "--dist", tmp_path / "dist"], cwd=project)
    # Built from git between tags: a development build, never a version to tag.
    assert proc.stdout == (
        "version '0.1.1.dev1' is a development build read from git (no release tag on this commit): "
        "release by tagging the commit vX.Y.Z\n"
    ), proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("backend", PLUGIN_BACKENDS)
def test_a_checkout_without_the_tag_never_builds_a_release(backend: str, tmp_path: Path) -> None:
    """A shallow clone (actions/checkout's default: one commit, no tags) stops the build; a full
    clone without tags builds 0.1.devN, which the release guard refuses with the reason."""
    project = tagged_project(backend, tmp_path)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-tags", f"file://{project}", str(shallow))
    sdist_only = ["--sdist"] if backend in COMPILED else []  # the version is read before anything compiles
    proc = build(shallow, tmp_path / "shallow-dist", *sdist_only)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert f"{shallow} is shallow, please correct with" in output or (
        f"{shallow} is a shallow git checkout without the release tag" in output
    ), output[-3000:]
    assert not list((tmp_path / "shallow-dist").glob("*"))
    # The tag at the clone's commit: even a shallow clone builds the release (what fetch-depth: 0 gives too).
    tagged = tmp_path / "shallow-tagged"
    git(tmp_path, "clone", "--quiet", "--depth", "1", f"file://{project}", str(tagged))
    assert build(tagged, tmp_path / "tagged-dist", *sdist_only).returncode == 0
    assert {p.name.split("-")[1].removesuffix(".tar.gz") for p in (tmp_path / "tagged-dist").iterdir()} == {"0.1.0"}
    # Every commit, no tag: a dev version, and publish.yml's guard refuses it for the release tag.
    tagless = tmp_path / "tagless"
    git(tmp_path, "clone", "--quiet", "--no-tags", f"file://{project}", str(tagless))
    assert built_versions(tagless, tmp_path / "tagless-dist", backend) == {"0.1.dev1"}
    guard = subprocess.run(
        [PYTHON, GUARD, "--tag", "v0.1.0", "--dist", tmp_path / "tagless-dist"],
        cwd=tagless, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert guard.returncode == 1
    assert "release tag 'v0.1.0' does not match version '0.1.dev1' that the build read from git" in guard.stderr
    assert "Check out with fetch-depth: 0" in guard.stderr


def unpack_archive(repo: Path, ref: str, dst: Path) -> Path:
    """`git archive` of `ref` in `repo` unpacked into `dst` (made here): the tree GitHub's "Source
    code" download gives (export-subst applied, no .git). Returns `dst`."""
    archive = subprocess.run(["git", "archive", ref], cwd=repo, capture_output=True, check=True)
    dst.mkdir()
    subprocess.run(["tar", "-x"], cwd=dst, input=archive.stdout, check=True)
    return dst


@pytest.mark.slow
@pytest.mark.parametrize("backend", ARCHIVE_BACKENDS)
def test_a_source_archive_of_the_tag_builds_the_tag_version(backend: str, tmp_path: Path) -> None:
    """Outside git, the plugin reads .git_archival.txt, which `git archive` filled in: the tag's
    version for an archive of the tag (the wheel built straight from it, as `pip install` of a
    GitHub archive URL does; a compiled backend's sdist), the next .devN for one of a later commit
    (without the file the build stops: setuptools-scm "unable to detect version")."""
    project = tagged_project(backend, tmp_path)
    tagged = unpack_archive(project, "v0.1.0", tmp_path / "tag")
    assert "describe-name: v0.1.0\n" in (tagged / ".git_archival.txt").read_text(encoding="utf-8")
    if backend in COMPILED:
        assert sdist_version(build_sdist(tagged, tmp_path / "tag-dist")) == "0.1.0"
    else:
        run_build(tagged, tmp_path / "tag-dist", PYTHON, "--wheel")
        (wheel,) = (tmp_path / "tag-dist").glob("*.whl")
        assert wheel.name.split("-")[1] == "0.1.0", wheel.name
    git(project, "commit", "--quiet", "--allow-empty", "--message", "Work after the release")
    later = unpack_archive(project, "HEAD", tmp_path / "later")
    assert sdist_version(build_sdist(later, tmp_path / "later-dist")) == "0.1.1.dev1"


@pytest.mark.slow
def test_the_archival_file_is_the_one_setuptools_scm_writes(tmp_path: Path) -> None:
    """setuptools-scm's own `create-archival-file --stable` writes the same lines, and finds that
    .gitattributes already marks the file for export-subst (it prints the step it would ask for
    otherwise). Its file ends in a blank line, which the project's end-of-file-fixer hook removes:
    the template's has none."""
    project = tagged_project("setuptools", tmp_path)
    ours = (project / ".git_archival.txt").read_text(encoding="utf-8")
    python = build_environment(build_requires(project))
    proc = run([python, "-m", "setuptools_scm", "create-archival-file", "--stable", "--force"], cwd=project)
    assert "Add this line to .gitattributes" not in proc.stdout
    assert "Commit the archival file" in proc.stdout, proc.stdout
    theirs = (project / ".git_archival.txt").read_text(encoding="utf-8")
    assert ours == theirs.rstrip("\n") + "\n"
    assert "end-of-file-fixer" in (project / ".pre-commit-config.yaml").read_text(encoding="utf-8")


def test_the_archival_files_come_with_the_plugins_that_read_them() -> None:
    """git-tag projects of the backends whose plugin reads .git_archival.txt get it and the
    .gitattributes line that fills it in; pdm-backend's and every pyproject project get neither."""
    for backend in PLUGIN_BACKENDS:
        case_id = f"{backend}-git-tag"
        project = render_once(f"build-{case_id}", matrix_case_answers(case_id))
        has = {name for name in (".git_archival.txt", ".gitattributes") if (project / name).is_file()}
        assert has == ({".git_archival.txt", ".gitattributes"} if backend in ARCHIVE_BACKENDS else set()), backend
    assert not (render_once("build-defaults", matrix_case_answers("defaults")) / ".gitattributes").exists()


def test_no_document_sends_a_git_tag_project_to_pyproject_for_its_version() -> None:
    """pyproject.toml holds no version when the tag gives it: RELEASING.md's job table and the release
    guard's step name speak of the built version instead, for every kind (the extension's too)."""
    for case_id in [*(f"{backend}-git-tag" for backend in PLUGIN_BACKENDS), "defaults"]:
        project = render_once(f"build-{case_id}", matrix_case_answers(case_id))
        git_tag = case_id != "defaults"
        pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        assert ("version" in pyproject["project"].get("dynamic", [])) is git_tag, case_id
        releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
        assert ("the tag is not the version in `pyproject.toml`" in releasing) is not git_tag, case_id
        assert ("the tag is not the version the build read from the tag" in releasing) is git_tag, case_id
        publish = yaml.safe_load((project / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8"))
        (guard,) = [s["name"] for s in publish["jobs"]["build"]["steps"] if "check_release_version" in s.get("run", "")]
        assert ("pyproject.toml" in guard) is not git_tag, (case_id, guard)


@pytest.mark.slow
def test_uv_run_reports_the_version_of_the_latest_tag(tmp_path: Path) -> None:
    """A developer's `uv run` after tagging: uv reinstalls the project on a new commit or tag (its
    [tool.uv] cache keys), so the version it reports is git's, not the one of the first `uv sync`."""
    project = tagged_project("setuptools", tmp_path)
    name = load_answers(project)["import_name"]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    report = [tool("uv"), "run", "--quiet", "python", "-c", f"import {name}; print({name}.__version__)"]
    assert run(report, cwd=project, env=env).stdout.strip() == "0.1.0"
    git(project, "commit", "-q", "--allow-empty", "-m", "Next")
    assert run(report, cwd=project, env=env).stdout.strip() == "0.1.1.dev1"
    git(project, "tag", "v0.2.0")
    assert run(report, cwd=project, env=env).stdout.strip() == "0.2.0"


def test_every_pure_git_tag_project_has_uvs_git_cache_keys() -> None:
    """The cache keys the test above relies on, for each backend's git-tag library; an extension's
    backend file keeps its own (a recompile on every commit would cost too much)."""
    keys = [{"file": "pyproject.toml"}, {"git": {"commit": True, "tags": True}}]
    for backend in PLUGIN_BACKENDS:
        case_id = f"{backend}-git-tag"
        uv = tomllib.loads(
            (render_once(f"build-{case_id}", matrix_case_answers(case_id)) / "pyproject.toml").read_text(
                encoding="utf-8"
            )
        )["tool"].get("uv", {})
        assert (uv.get("cache-keys") == keys) == (backend not in COMPILED), (backend, uv)
    defaults = render_once("build-defaults", matrix_case_answers("defaults"))
    assert "uv" not in tomllib.loads((defaults / "pyproject.toml").read_text(encoding="utf-8"))["tool"]


@pytest.mark.parametrize("backend", ["hatchling", "scikit-build-core"])
def test_release_check_wants_the_release_tag_on_head_before_a_manual_upload(backend: str, tmp_path: Path) -> None:
    """A manual release builds what HEAD is: without its vX.Y.Z tag that is a .devN version. An
    extension's check runs before its tag, as RELEASING.md says (publish.yml builds its release)."""
    project = tagged_project(backend, tmp_path)
    git(project, "commit", "--quiet", "--allow-empty", "--message", "after the release")
    metadata_wheel(project / "dist", "demo-pkg", "0.1.1.dev1")
    result = load_script(project).version()
    if backend in COMPILED:
        assert result.ok, result
        assert result.summary == (
            "version '0.1.1.dev1' is a development build read from git (no release tag on this commit): "
            "release by tagging the commit vX.Y.Z"
        )
    else:
        assert not result.ok
        assert result.summary.startswith("HEAD carries no release tag")
        assert "git tag -a vX.Y.Z" in result.details[0]


def test_release_check_takes_the_v_tag_among_the_tags_on_head(tmp_path: Path) -> None:
    """Other tags on the release commit (annotated, which git describe prefers to a lightweight
    release tag; one starts with v) are not the release tag: the check reads v0.1.0, as publish.yml
    gets the release's own."""
    project = tagged_project("hatchling", tmp_path)
    git(project, "tag", "--delete", "v0.1.0")
    git(project, "tag", "v0.1.0")
    for other in ("stable", "verified"):
        git(project, "tag", "--annotate", other, "--message", "what we run in production")
    metadata_wheel(project / "dist", "demo-pkg", "0.1.0")
    result = load_script(project).version()
    assert result.ok, result
    assert result.summary == "release tag 'v0.1.0' matches version '0.1.0'"


# --- Workflows and files -------------------------------------------------------------------------
# The one job that checks out the repository and builds nothing from it (it reads files).
NEVER_BUILDS = {("ci.yml", "template-sync")}


def test_every_checkout_that_builds_fetches_the_tags(tmp_path: Path) -> None:
    """Every job of every workflow that checks the repository out builds or installs the project
    (a new one too, unless NEVER_BUILDS names it): with git-tag each needs every commit and tag."""
    data = {"build_backend": "hatchling", "version_source": "git-tag", "docs_site": "sphinx"}
    project = render_project(tmp_path / "demo-pkg", data)
    checked = set()
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].items():
            for step in job.get("steps", []):
                if "actions/checkout" in step.get("uses", "") and (path.name, name) not in NEVER_BUILDS:
                    assert step["with"] == {"persist-credentials": False, "fetch-depth": 0}, (path.name, name)
                    checked.add((path.name, name))
    assert {("ci.yml", "tests"), ("ci.yml", "lint"), ("ci.yml", "build"), ("publish.yml", "build")} <= checked
    assert ("docs.yml", "build") in checked  # docs.yml installs the project: its version plugin runs
    smoke = (project / "tests" / "test_demo_pkg.py").read_text(encoding="utf-8")
    assert "pyproject" not in smoke  # the installed metadata's version, never [project] version
    releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
    assert "The first\nrelease is 0.1.0: tag it `v0.1.0`." in releasing
    assert "Set `version = " not in releasing


# --- Updates ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template at RELEASE_BEFORE (tag v1.0.0) and as it is now (tag v1.1.0), in one repository."""
    repo = unpack_archive(TEMPLATE_ROOT, RELEASE_BEFORE, tmp_path_factory.mktemp("releases") / "pypi-template")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "before version_source")
    git(repo, "tag", "v1.0.0")
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(copy_template_tree(repo.parent / "now"), repo, dirs_exist_ok=True)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "version_source")
    git(repo, "tag", "v1.1.0")
    return repo


@pytest.mark.slow
def test_update_keeps_a_project_byte_for_byte_then_switches_on_git_tag(two_releases: Path, tmp_path: Path) -> None:
    project = render_project(tmp_path / "demo-pkg", {}, src=f"git+file://{two_releases}", vcs_ref="v1.0.0")
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "first copy")
    before = project_files(project)
    proc = copier_cli("update", "--defaults", "--vcs-ref", "v1.1.0", cwd=project)
    assert proc.returncode == 0, proc.stderr
    after = project_files(project)
    # The project is now exactly what a new copy of v1.1.0 with the same answers is, but for the
    # files it owns (README.md: kept as they were): the default, pyproject, adds nothing of git-tag;
    # and the release guard is a fix every project gets (its message for a version read from git).
    fresh = render_project(tmp_path / "fresh" / "demo-pkg", {}, src=f"git+file://{two_releases}", vcs_ref="v1.1.0")
    owned = {name for name in after if user_owned(name)}
    assert {name: after[name] for name in owned} == {name: before[name] for name in owned}
    assert {name: data for name, data in after.items() if name not in owned} == {
        name: data for name, data in project_files(fresh).items() if name not in owned
    }
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert {ANSWERS_FILE, GUARD.as_posix()} <= changed
    assert load_answers(project)["version_source"] == "pyproject"
    git(project, "add", "--all")  # the release's new files too
    git(project, "commit", "--quiet", "--message", "update")
    proc = copier_cli("update", "--defaults", "--data", "version_source=git-tag", cwd=project)
    assert proc.returncode == 0, proc.stderr
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert "version = " not in pyproject.split("[project]", 1)[1].split("\n[", 1)[0]
    assert '"setuptools-scm>=9.2.0"' in pyproject
    assert load_answers(project)["version_source"] == "git-tag"
    git(project, "commit", "--quiet", "--all", "--message", "version from git tags")
    git(project, "tag", "v0.1.0")
    assert versions(build_dists(project, tmp_path / "dist")) == ("0.1.0", "0.1.0")


def test_pdm_version_format_script_passes_the_projects_checkers() -> None:
    """scripts/scm_version.py (pdm-backend only) passes ruff and mypy --strict, as every generated file."""
    project = render_once("build-pdm-backend-git-tag", matrix_case_answers("pdm-backend-git-tag"))
    assert (project / "scripts" / "scm_version.py").is_file()
    # The render is shared: nothing may be written into it (mypy's cache goes to the machine's).
    cache = project_mypy_cache(project, importlib.metadata.version("mypy"))
    for command in (
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--no-cache", "--check", "."],
        ["mypy", "--cache-dir", str(cache)],
    ):
        proc = subprocess.run(
            [tool(command[0]), *command[1:]], cwd=project, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
