"""Updating: `copier update` brings template fixes into generated projects and keeps the users' edits.

Every test builds throwaway template repositories in tmp (tag A, then a template fix at tag B), or
copies scenarios.update_template: CI clones of this repository may be shallow or tagless. Nothing
here needs --trust. Refusals, narrowed tables and --trust: tests/test_update_refusals.py; answer
changes and the messages after a copy or an update: tests/test_update_answers.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import copier
import jinja2
import pytest
import yaml

from scenarios import (
    FIX_STEP,
    NEW_SHA,
    NEW_VERSION,
    RELEASE_CANDIDATE,
    TAG_A,
    TAG_B,
    TemplateRepo,
    make_template_repo,
    pinned_action,
    release_template_fix,
)
from support.clients import install_copier
from support.config import TEMPLATE_ROOT, load_copier_config
from support.proc import commit_new_repo, git, run
from support.releases import changelog_parts, tags_without_a_section
from support.render import load_answers, project_files, render_project
from support.updating import (
    ANSWERS_FILE,
    WORKFLOW,
    answers_of,
    assert_merged_cleanly,
    assert_user_edits_intact,
    changed_paths,
    copier_cli,
    documented_commands,
    edit_as_user,
    update_api,
    user_owned,
    workflow_steps,
)

# Paths the template keeps managing (3-way merged on update): never in the user-owned lists.
MANAGED = ["pyproject.toml", "LICENSE", "RELEASING.md", ".gitignore", WORKFLOW, ".github/dependabot.yml"]


# --- 1. A template fix reaches the project; the user's edits stay ----------------------------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_update_brings_fix_and_keeps_user_edits(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """The user's path: `copier update --defaults` on the command line (the API is used below).

    The user also deleted a smoke test (theirs) and RELEASING.md (managed): neither comes back.
    """
    project = update_repo.project_in(tmp_path)
    workflow = project / WORKFLOW
    assert update_repo.old_sha in workflow.read_text(encoding="utf-8")
    edit_as_user(project)
    git(project, "rm", "--quiet", "tests/test_demo_pkg.py", "RELEASING.md")
    git(project, "commit", "--quiet", "--message", "We do not want these")
    before = project_files(project)
    proc = copier_cli("update", "--defaults", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "Updating to template version 1.1.0" in proc.stderr
    assert "git diff" in proc.stderr, proc.stderr  # _message_after_update
    text = workflow.read_text(encoding="utf-8")
    assert NEW_SHA in text
    assert update_repo.old_sha not in text
    assert f"# {NEW_VERSION}" in text
    assert FIX_STEP in [step.get("name") for step in workflow_steps(project)]
    assert_user_edits_intact(project)
    for name in ("README.md", "CHANGELOG.md", "src/demo_pkg/__init__.py"):
        assert (project / name).read_bytes() == before[name], name
    assert not (project / "tests" / "test_demo_pkg.py").exists()
    assert not (project / "RELEASING.md").exists()
    answers = load_answers(project)
    assert answers["_commit"] == TAG_B
    assert answers["_src_path"] == str(update_repo.path)
    assert_merged_cleanly(project)
    # The new pin lands in every workflow that uses the action (ci.yml too), and nowhere else.
    pinned = {
        p.relative_to(project).as_posix()
        for p in (project / ".github").rglob("*")
        if p.is_file() and NEW_SHA in p.read_text(encoding="utf-8")
    }
    assert WORKFLOW in pinned
    assert changed_paths(project) == {ANSWERS_FILE, *pinned}


@pytest.mark.client
def test_declared_minimum_copier_copies_and_updates(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """`_min_copier_version` is a promise: exactly that copier renders the same project and updates it."""
    minimum = load_copier_config()["_min_copier_version"]
    oldest = install_copier(minimum)
    assert run([oldest, "--version"]).stdout.split() == ["copier", minimum]
    project = tmp_path / "demo-pkg"
    run([oldest, "copy", "--defaults", "--vcs-ref", TAG_A, update_repo.path, project], cwd=tmp_path)
    assert project_files(project) == project_files(update_repo.first_copy)
    commit_new_repo(project, "Generate with the oldest copier")
    edit_as_user(project)
    answers = load_answers(project)
    # Renovate's command: every recorded answer kept, the template release given.
    run(
        [oldest, "update", "--skip-answered", "--defaults", "--answers-file", ANSWERS_FILE, "--vcs-ref", TAG_B],
        cwd=project,
    )
    assert FIX_STEP in [step.get("name") for step in workflow_steps(project)]
    assert NEW_SHA in (project / WORKFLOW).read_text(encoding="utf-8")
    assert_user_edits_intact(project)
    assert_merged_cleanly(project)
    assert load_answers(project) == {**answers, "_commit": TAG_B}


# --- 2. The user edited the same lines: tests/test_fleet.py's project that bumped a pin itself
# gets inline conflict markers around both pins, git's unmerged state, and a failing sync check.


# --- Template versions: tags, check-update, latest tag ----------------------------------------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_check_update_reports_a_new_tag(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """The three check-update lines docs/updating.md gives, on a project at the newest release and one behind."""
    plain, quiet, as_json = documented_commands("copier check-update")
    assert (plain, quiet, as_json) == (
        ["check-update"],
        ["check-update", "--quiet"],
        ["check-update", "--output-format", "json"],
    )
    # Prereleases are for trying a template release: nobody is offered them by default.
    assert copier_cli(*quiet, cwd=update_repo.latest_copy).returncode == 0  # at the newest release
    project = update_repo.project_in(tmp_path)
    proc = copier_cli(*plain, cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "New template version available" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert copier_cli(*quiet, cwd=project).returncode == 2
    proc = copier_cli(*as_json, cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"update_available": True, "current_version": "1.0.0", "latest_version": "1.1.0"}
    # An explicit ref (--vcs-ref) picks any release, a release candidate included.
    update_api(project, vcs_ref=RELEASE_CANDIDATE)
    assert load_answers(project)["_commit"] == RELEASE_CANDIDATE


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_copy_uses_the_latest_pep440_tag(tmp_path: Path) -> None:
    """Not the working tree and not the last tag in text order: v1.10.0 is newer than v1.9.0."""
    repo = make_template_repo(tmp_path / "template", tag="v1.9.0")
    release_template_fix(repo, "v1.10.0", pinned_action(repo))
    with (repo / "template" / "README.md.jinja").open("a", encoding="utf-8") as fh:
        fh.write("Uncommitted template edit.\n")
    proc = copier_cli("copy", "--defaults", str(repo), str(tmp_path / "latest"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "RELEASING.md" in proc.stderr  # _message_after_copy
    assert load_answers(tmp_path / "latest")["_commit"] == "v1.10.0"
    assert FIX_STEP in (tmp_path / "latest" / WORKFLOW).read_text(encoding="utf-8")
    assert "Uncommitted template edit." not in (tmp_path / "latest" / "README.md").read_text(encoding="utf-8")
    render_project(tmp_path / "pinned", src=repo, vcs_ref="v1.9.0")
    assert load_answers(tmp_path / "pinned")["_commit"] == "v1.9.0"
    assert FIX_STEP not in (tmp_path / "pinned" / WORKFLOW).read_text(encoding="utf-8")


# --- Recopy: the documented way back for a hand-broken workflow -------------------------------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_recopy_restores_a_hand_broken_workflow(tmp_path: Path, update_repo: TemplateRepo) -> None:
    project = update_repo.project_in(tmp_path)
    edit_as_user(project)
    workflow = project / WORKFLOW
    text = workflow.read_text(encoding="utf-8")
    assert text.count("\npermissions: {}\n") == 1, text
    workflow.write_text(text.replace("\npermissions: {}\n", "\n"), encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "Hand edit that drops the permissions")
    update_api(project)
    # Updates replay template changes only: the fix arrives, the broken line is not healed.
    assert FIX_STEP in workflow.read_text(encoding="utf-8")
    assert "permissions" not in yaml.safe_load(workflow.read_text(encoding="utf-8"))
    git(project, "commit", "--quiet", "--all", "--message", "Update pypi-template")
    # docs/updating.md, "A workflow you broke by hand":
    copier.run_recopy(
        project, defaults=True, overwrite=True, unsafe=False, quiet=True
    )  # `copier recopy --defaults --overwrite`
    git(project, "add", WORKFLOW)
    git(project, "restore", ".")
    fresh = update_repo.latest_copy  # a new copy of TAG_B with the same answers
    assert answers_of(project) == answers_of(fresh)
    assert workflow.read_bytes() == (fresh / WORKFLOW).read_bytes()
    assert changed_paths(project) == {WORKFLOW}
    assert_user_edits_intact(project)


# --- Ownership split and template versions are stated once and kept consistent ----------------


def test_user_owned_paths_agree_in_config_and_docs() -> None:
    config = load_copier_config()
    owned = config["_skip_if_exists"]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    on = {
        op: [env.from_string(p).render(_copier_operation=op) for p in config["_exclude"]] for op in ("copy", "update")
    }
    # Excluded on update and only then: exactly the user-owned paths.
    assert [p for p in on["update"] if p not in on["copy"]] == owned
    # Setting _exclude replaced copier's defaults: they must all still be there.
    assert {"copier.yaml", "copier.yml", "~*", "*.py[co]", "__pycache__", ".git", ".DS_Store", ".svn"} <= set(
        on["copy"]
    )
    for path in MANAGED:
        assert not user_owned(path), path
    docs = (TEMPLATE_ROOT / "docs" / "updating.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([^`]+)` \| yours \|", docs, flags=re.MULTILINE)
    assert sorted(path.strip("/") for path in documented) == sorted(path.strip("/") for path in owned)


def test_changelog_has_a_pep440_section_per_release() -> None:
    parts = changelog_parts(TEMPLATE_ROOT)
    assert parts, "docs/changelog.md has no release section"
    versions = [version for version, _ in parts]
    assert versions == sorted(set(versions), reverse=True), versions
    for version, section in parts:
        assert re.search(r"^Update needs attention: \*\*(yes|no)\*\*", section, flags=re.MULTILINE), version
    assert tags_without_a_section(TEMPLATE_ROOT) == []  # vacuous in a tagless clone: the test below is not


def test_a_final_release_tag_without_a_changelog_section_is_found(tmp_path: Path) -> None:
    """A candidate (rings) shares its final release's section; a final release needs its own."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "changelog.md").write_text("# Changelog\n\n## 1.1.0\n\nFixes.\n", encoding="utf-8")
    commit_new_repo(tmp_path, "history")
    for tag in ("v1.0.0", "v1.1.0rc1", "v1.1.0", "v1.2.0rc1"):
        git(tmp_path, "tag", tag)
    assert tags_without_a_section(tmp_path) == ["v1.0.0"]


def test_extras_render_the_same_in_any_order(tmp_path: Path) -> None:
    """copier records the extras mapping with sorted keys and an update re-renders the old release from
    the record: a first copy in the order given would differ from it, and every update of a
    meta-package would reorder pyproject.toml (a conflict beside any edit there)."""
    order = [("win", ["idna"]), ("clients", ["requests>=2"]), ("a-b", ["acme-b"])]
    base = {"project_name": "acme", "project_kind": "meta-package", "docs_site": "sphinx", "build_backend": "hatchling"}
    given, recorded = (
        render_project(tmp_path / name, {**base, "extras": dict(pairs)})
        for name, pairs in [("given", order), ("recorded", sorted(order))]
    )
    assert list(load_answers(given)["extras"]) == ["a-b", "clients", "win"]  # copier's record, sorted
    for name in ("pyproject.toml", "README.md", "docs/extras.md", "tests/test_metadata.py"):
        assert (given / name).read_text(encoding="utf-8") == (recorded / name).read_text(encoding="utf-8"), name
