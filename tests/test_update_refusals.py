"""Update refusals: a dirty or untracked project, an answer a release no longer accepts, a
question a release dropped, a narrowed table, a template that would need --trust.

An update never changes an answer silently and, refused, leaves everything as it was. Template
repositories are throwaway (tmp) or scenarios.update_template, as in tests/test_update.py.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from copier.errors import UnsafeTemplateError, UserMessageError
from packaging.version import Version

from scenarios import (
    META_EXTRAS,
    RELEASE_CANDIDATE,
    TAG_A,
    TAG_B,
    TemplateRepo,
    make_project,
    make_template_repo,
)
from support.clients import RENOVATE_COPIER_UPDATE, install_copier
from support.config import (
    PYTHON_VERSIONS,
    TEMPLATE_ROOT,
    copier_config_at,
    load_copier_config,
    meta_package_backends,
    question_names,
    table,
)
from support.proc import git, tool
from support.releases import changelog_sections, release_tags
from support.render import load_answers, project_files
from support.sharing import shared_folder, shared_once
from support.terminal import Terminal, help_lines
from support.updating import ANSWERS_FILE, UPDATING_DOC, copier_cli, update_api
from support.validators import validator_env, validator_message

# The copier users run (locked) and the oldest one the template declares (installed: a client).
BOTH_COPIERS = pytest.mark.parametrize("copier_version", ["locked", pytest.param("minimum", marks=pytest.mark.client)])


# --- 3. Refusals leave everything as it was --------------------------------------------------

DIRTY = "Destination repository is dirty; cannot continue. Please commit or stash your local changes and retry."
NOT_GIT = "Updating is only supported in git-tracked subprojects."


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
@pytest.mark.parametrize("state", ["modified", "untracked", "not-git"])
def test_update_refused_and_nothing_changes(tmp_path: Path, update_repo: TemplateRepo, state: str) -> None:
    if state == "not-git":  # the first copy as copier wrote it, before anyone ran `git init`
        project = shutil.copytree(
            update_repo.first_copy, tmp_path / "demo-pkg", symlinks=True, ignore=shutil.ignore_patterns(".git")
        )
    else:
        project = update_repo.project_in(tmp_path)
        if state == "modified":
            with (project / "README.md").open("a", encoding="utf-8") as fh:
                fh.write("Work in progress.\n")
        else:
            (project / "notes.txt").write_text("not added yet\n", encoding="utf-8")
        git_state = (git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain"))
    before = project_files(project)
    message = NOT_GIT if state == "not-git" else DIRTY
    if state == "untracked":
        with pytest.raises(UserMessageError, match=re.escape(message)):
            update_api(project)
    else:
        proc = copier_cli("update", "--defaults", cwd=project)
        assert proc.returncode == 1, proc.stderr
        assert message in proc.stderr
    assert project_files(project) == before
    if state != "not-git":
        assert (git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain")) == git_state


# --- 3b. An update never changes an answer silently -------------------------------------------


def narrow_python_versions(repo: Path, tag: str, dropped: str) -> None:
    """Release `tag`: the template no longer offers Python `dropped` (a table narrowed)."""
    config = repo / "includes" / "tables" / "python_versions.yml"
    text = config.read_text(encoding="utf-8")
    line = f'    "{dropped}": "{table("python_versions")[dropped]}"\n'
    assert text.count(line) == 1
    config.write_text(text.replace(line, ""), encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", f"Drop Python {dropped} ({tag})")
    git(repo, "tag", tag)


@pytest.fixture(scope="module")
def narrowing_repo() -> Path:
    """Tag A = this template; tag B = the same without the oldest Python in python_versions."""

    def make(root: Path) -> None:
        repo = make_template_repo(root / "pypi-template")
        narrow_python_versions(repo, TAG_B, PYTHON_VERSIONS[0])
        # (Projects the narrowing does not touch update as usual: tests/test_fleet.py.)
        make_project(root / "oldest", repo, {"python_min": PYTHON_VERSIONS[0]})

    return shared_once(shared_folder() / "narrowing-template", make)


def assert_nothing_changed(project: Path, before: dict[str, bytes]) -> None:
    assert project_files(project) == before
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
@BOTH_COPIERS
def test_update_refuses_an_answer_a_release_no_longer_accepts(
    tmp_path: Path, narrowing_repo: Path, copier_version: str
) -> None:
    """Renovate's command on a project whose python_min the new release dropped: refused, named, nothing changed.

    Without the guard copier deletes the recorded answer and takes the default, python_min 3.11.
    """
    oldest = PYTHON_VERSIONS[0]
    copier = (
        tool("copier")
        if copier_version == "locked"
        else str(install_copier(load_copier_config()["_min_copier_version"]))
    )
    project = shutil.copytree(narrowing_repo / "oldest" / "demo-pkg", tmp_path / "demo-pkg", symlinks=True)
    before = project_files(project)
    proc = subprocess.run(
        [copier, *RENOVATE_COPIER_UPDATE, "--vcs-ref", TAG_B], cwd=project, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1, proc.stderr
    assert "Validation error for question 'python_min': recorded answer now invalid\n" in proc.stderr
    assert f'python_min "{oldest}" in {ANSWERS_FILE} is no longer accepted: it must be one of ' in proc.stderr
    assert "--data python_min=ANSWER" in proc.stderr
    assert_nothing_changed(project, before)
    # The way out the message gives: choose the answer, and the update goes through.
    newer = PYTHON_VERSIONS[1]
    proc = subprocess.run([copier, *RENOVATE_COPIER_UPDATE, "--vcs-ref", TAG_B, "--data", f"python_min={newer}"],
                          cwd=project, capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (load_answers(project)["python_min"], load_answers(project)["_commit"]) == (newer, TAG_B)


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_changing_one_answer_never_replaces_another_silently(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """A flit-core library made a meta-package: flit-core cannot build one, and copier would switch
    the project to setuptools without a word. The update refuses; both answers together go through."""
    project = make_project(tmp_path / "flit", update_repo.path, {"build_backend": "flit-core"})
    before = project_files(project)
    meta = ["--data", "project_kind=meta-package", "--data", f"extras={json.dumps(META_EXTRAS)}"]
    proc = copier_cli("update", "--defaults", *meta, cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "Validation error for question 'build_backend': recorded answer now invalid\n" in proc.stderr
    offered = ", ".join(meta_package_backends())
    assert (
        f'build_backend "flit-core" in {ANSWERS_FILE} is no longer accepted: a meta-package builds with {offered}.'
        in proc.stderr
    )
    assert_nothing_changed(project, before)
    # docs/updating.md shows this very message.
    documented = UPDATING_DOC.read_text(encoding="utf-8").split(
        "ValueError: Validation error for question 'build_backend'", 1
    )[1]
    shown = ("ValueError: Validation error for question 'build_backend'" + documented.split("```", 1)[0]).strip()
    assert shown in proc.stderr, shown
    proc = copier_cli("update", "--defaults", *meta, "--data", "build_backend=hatchling", cwd=project)
    assert proc.returncode == 0, proc.stderr
    answers = load_answers(project)
    assert (answers["project_kind"], answers["build_backend"]) == ("meta-package", "hatchling")


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_a_new_build_backend_never_drops_git_tag_silently(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """git-tag is a choice only a backend with a version plugin offers: moved to flit-core, a git-tag
    project would become one whose version is typed in pyproject.toml, without a word. The update
    refuses, naming the backend; both answers together go through."""
    project = make_project(tmp_path / "tagged", update_repo.path, {"version_source": "git-tag"})
    before = project_files(project)
    proc = copier_cli("update", "--defaults", "--data", "build_backend=flit-core", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "Validation error for question 'version_source': recorded answer now invalid\n" in proc.stderr
    assert (
        f'version_source "git-tag" in {ANSWERS_FILE} is no longer accepted: build_backend flit-core '
        "cannot read the version from git tags (give version_source=pyproject with it)." in proc.stderr
    )
    assert_nothing_changed(project, before)
    both = ["--data", "build_backend=flit-core", "--data", "version_source=pyproject"]
    proc = copier_cli("update", "--defaults", *both, cwd=project)
    assert proc.returncode == 0, proc.stderr
    answers = load_answers(project)
    assert (answers["build_backend"], answers["version_source"]) == ("flit-core", "pyproject")


@pytest.mark.parametrize(("kind", "article"), [("library", "a"), ("meta-package", "a"), ("extension", "an")])
def test_the_build_backend_refusal_names_the_kind_in_english(kind: str, article: str) -> None:
    """kept()'s message for a recorded backend the new project_kind cannot use, from the validator."""
    recorded = next(name for name, spec in table("backends").items() if kind not in spec["kinds"])
    offered = ", ".join(name for name, spec in table("backends").items() if kind in spec["kinds"])
    answers = {"build_backend": recorded}
    context = {"project_kind": kind, "backends": table("backends"), "_copier_answers": answers}
    message = validator_message(validator_env(), "build_backend", offered.split(", ")[0], data={}, context=context)
    assert f"no longer accepted: {article} {kind} builds with {offered}.\n" in message


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_data_the_recorded_kind_is_not_asked_never_changes_the_kind(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """A command given to a meta-package: copier would discard the recorded kind (its validator
    refuses the data) and take the default, a library, without a word. The update stops instead."""
    data = {"project_kind": "meta-package", "build_backend": "hatchling", "extras": META_EXTRAS}
    project = make_project(tmp_path / "meta", update_repo.path, data)
    before = project_files(project)
    proc = copier_cli("update", "--defaults", "--data", "command_name=acme", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "Validation error for question 'project_kind': not asked of a meta-package\n" in proc.stderr
    assert_nothing_changed(project, before)


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_update_refuses_a_recorded_text_answer_a_stricter_rule_refuses(tmp_path: Path) -> None:
    """A text question's rule applied to the recorded answer (kept()'s `rule` macro): a release that
    caps description at 40 characters stops the update instead of writing the default summary."""
    repo = make_template_repo(tmp_path / "pypi-template")
    description = "A summary of fifty characters, longer than the cap"
    project = make_project(tmp_path, repo, {"description": description})
    edit(repo, "copier.yml", "{%- elif description | length > 512 -%}", "{%- elif description | length > 40 -%}")
    release(repo, TAG_B)
    before = project_files(project)
    proc = copier_cli("update", "--defaults", "--vcs-ref", TAG_B, cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "Validation error for question 'description': recorded answer now invalid\n" in proc.stderr
    assert (
        f'description "{description}" in {ANSWERS_FILE} is no longer accepted: it breaks one of its rules.'
        in proc.stderr
    )
    assert (
        f'copier would replace it with "{load_copier_config()["description"]["default"]}" without a word' in proc.stderr
    )
    assert_nothing_changed(project, before)


NEW_DESCRIPTION = "Tools that make acme faster, typed at the prompt"


@pytest.mark.slow  # an update through copier's real prompt (pseudo-terminal)
@BOTH_COPIERS
def test_interactive_update_takes_a_typed_text_answer_and_a_new_choice(
    tmp_path: Path, update_repo: TemplateRepo, copier_version: str
) -> None:
    """docs/updating.md: without --defaults copier asks every question again, pre-filled. A new
    description typed at its prompt and a license picked with the arrow keys both go through:
    the guard above refuses only a default copier substitutes for a recorded answer. So does a new
    project_kind (extension) whose builders exclude the recorded build_backend: that question is
    asked again with the extension's default, never refused before the user can answer it."""
    copier = (
        tool("copier")
        if copier_version == "locked"
        else str(install_copier(load_copier_config()["_min_copier_version"]))
    )
    project = update_repo.project_in(tmp_path)
    terminal = Terminal(["update", "--vcs-ref", TAG_B, str(project)], copier=copier)
    answered: list[str] = []

    def waiting(screen: str) -> str | None:
        """The next question, once its help is drawn whole."""
        asked = [q for q in question_names() if q not in answered and all(line in screen for line in help_lines(q))]
        return asked[0] if asked else None

    try:
        while terminal.pump(120):
            question = terminal.wait_until(waiting, 30)
            answered.append(question)
            if question == "description":
                terminal.child.send("\x15" + NEW_DESCRIPTION)  # Ctrl-U clears the recorded answer
            if question == "license":
                terminal.child.send("\x1b[B")  # Down: the license after MIT
            if question == "project_kind":
                terminal.child.send("\x1b[B\x1b[B")  # Down, Down: library, meta-package, extension
            terminal.child.send("\r")
    finally:
        status = terminal.close()
    assert "Validation error" not in terminal.text()
    assert status == 0, terminal.text()
    assert {"description", "license", "build_backend", "use_renovate"} <= set(answered)
    answers = load_answers(project)
    assert (answers["project_kind"], answers["build_backend"]) == ("extension", "scikit-build-core")
    new_license = list(table("licenses"))[1]
    assert (answers["description"], answers["license"], answers["_commit"]) == (NEW_DESCRIPTION, new_license, TAG_B)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert (pyproject["description"], pyproject["license"]) == (NEW_DESCRIPTION, table("licenses")[new_license])


RETIRED = "legacy_question"
ANSWERS_JINJA = Path("includes", "answers.jinja")


def edit(repo: Path, path: Path | str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path, old)
    file.write_text(text.replace(old, new), encoding="utf-8")


def release(repo: Path, tag: str) -> None:
    git(repo, "commit", "--quiet", "--all", "--message", f"Release {tag}")
    git(repo, "tag", tag)


@pytest.mark.slow  # a copy and updates from a template repository (git, copier's CLI)
def test_a_release_that_drops_a_question_retires_its_name(tmp_path: Path) -> None:
    """copier passes every recorded answer back as data when it re-renders the new release: a
    question the release dropped must be listed in retired_questions, or every update of a project
    that answered it fails half-way."""
    repo = make_template_repo(tmp_path / "pypi-template", tag=None)
    edit(repo, "copier.yml", "\nuse_renovate:\n", f"\n{RETIRED}:\n  type: str\n  default: x\n\nuse_renovate:\n")
    edit(repo, ANSWERS_JINJA, " use_renovate').split()", f" use_renovate {RETIRED}').split()")
    release(repo, TAG_A)  # a release that asked it
    project = make_project(tmp_path, repo, {RETIRED: "recorded"})
    assert load_answers(project)[RETIRED] == "recorded"
    before = project_files(project)
    git(repo, "checkout", "--quiet", "HEAD~1", "--", "copier.yml", str(ANSWERS_JINJA))
    release(repo, TAG_B)  # drops it, and forgets to retire the name
    proc = copier_cli("update", "--defaults", "--vcs-ref", TAG_B, cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert f'"{RETIRED}" (in --data or --data-file) is not a question of this template' in " ".join(proc.stderr.split())
    # That re-render runs after copier wrote the update into the project: the user must reset it.
    assert git(project, "status", "--porcelain") != ""
    git(project, "reset", "--quiet", "--hard")
    git(project, "clean", "--quiet", "--force", "-d")
    assert_nothing_changed(project, before)
    edit(repo, ANSWERS_JINJA, "{%- set retired_questions = [] -%}", f"{{%- set retired_questions = ['{RETIRED}'] -%}}")
    release(repo, RELEASE_CANDIDATE)
    proc = copier_cli("update", "--defaults", "--vcs-ref", RELEASE_CANDIDATE, cwd=project)
    assert proc.returncode == 0, proc.stderr
    answers = load_answers(project)
    assert (RETIRED in answers, answers["_commit"]) == (False, RELEASE_CANDIDATE)


def removed_choices(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    """Values of the answer tables that a release stopped accepting, per table."""
    removed = {}
    for name in ("python_versions", "licenses", "backends"):
        gone = [value for value in old[name]["default"] if value not in new[name]["default"]]
        if gone:
            removed[name] = gone
    return removed


def narrowing_problems(repo: Path) -> list[str]:
    """Across `repo`'s final release tags: each release that stops accepting a table value must be a
    major release whose changelog section (docs/changelog.md) says it needs attention and names it."""
    # Final releases only: a candidate (rings, docs/updating.md) has no changelog section of its own.
    tags = [v for v in map(Version, release_tags(repo)) if not v.is_prerelease]
    sections = changelog_sections(repo)
    problems = []
    for older, newer in itertools.pairwise(tags):
        removed = removed_choices(*(copier_config_at(repo, f"v{v}") for v in (older, newer)))
        if not removed:
            continue
        if newer.major == older.major:
            problems.append(f"v{newer} stops accepting {removed} in a release that is not major")
        section = sections.get(newer, "")
        if "Update needs attention: **yes**" not in section:
            problems.append(f"v{newer}: the changelog does not say the update needs attention")
        problems += [f"v{newer}: the changelog does not name `{value}`" for values in removed.values()
                     for value in values if f"`{value}`" not in section]  # fmt: skip
    return problems


@pytest.mark.slow  # the narrowing template repository (git, a copy)
def test_narrowing_a_table_is_detected(narrowing_repo: Path, tmp_path: Path) -> None:
    repo = narrowing_repo / "pypi-template"
    old, new = (copier_config_at(repo, tag) for tag in (TAG_A, TAG_B))
    assert removed_choices(old, new) == {"python_versions": [PYTHON_VERSIONS[0]]}
    assert removed_choices(old, old) == {}
    assert narrowing_problems(repo) == [
        f"{TAG_B} stops accepting {{'python_versions': ['{PYTHON_VERSIONS[0]}']}} in a release that is not major",
        f"{TAG_B}: the changelog does not say the update needs attention",
        f"{TAG_B}: the changelog does not name `{PYTHON_VERSIONS[0]}`",
    ]
    # The same commit released as a major version, with the changelog section it needs: accepted.
    major = tmp_path / "major"
    git(tmp_path, "clone", "--quiet", str(repo), str(major))
    git(major, "tag", "v2.0.0", TAG_B)
    git(major, "tag", "--delete", TAG_B)
    changelog = major / "docs" / "changelog.md"
    section = f"## 2.0.0\n\nUpdate needs attention: **yes** (Python `{PYTHON_VERSIONS[0]}` is no longer offered).\n\n"
    changelog.write_text(changelog.read_text(encoding="utf-8").replace("## 1.0.0", section + "## 1.0.0", 1))
    assert narrowing_problems(major) == []


def test_releases_that_narrow_a_table_are_major_and_say_so() -> None:
    """Across this repository's release tags (none in a tagless clone: see the test above for the rule
    at work): a release that stops accepting a table value is a major release whose changelog entry
    needs attention and names it."""
    assert narrowing_problems(TEMPLATE_ROOT) == []


# --- 5. Nothing in the update path needs --trust; a template that did would be refused --------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_update_needing_trust_is_refused(tmp_path: Path) -> None:
    """Hosted Renovate and plain `copier update` work only because no release needs --trust."""
    repo = make_template_repo(tmp_path / "template")
    project = make_project(tmp_path, repo)
    with (repo / "copier.yml").open("a", encoding="utf-8") as fh:
        fh.write("\n_tasks:\n  - echo unsafe\n")
    git(repo, "commit", "--quiet", "--all", "--message", "add a task")
    git(repo, "tag", TAG_B)
    before = project_files(project)
    proc = copier_cli("update", "--defaults", cwd=project)
    assert proc.returncode == 4, proc.stderr
    assert "Template uses potentially unsafe feature: tasks." in proc.stderr
    with pytest.raises(UnsafeTemplateError):
        update_api(project)
    assert project_files(project) == before
    assert load_answers(project)["_commit"] == TAG_A
