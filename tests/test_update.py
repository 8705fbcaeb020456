"""Updating: `copier update` brings template fixes into generated projects and keeps the users' edits.

Every test builds throwaway template repositories in tmp (tag A, then a template fix at tag B):
CI clones of this repository may be shallow or tagless. Nothing here needs --trust.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import jinja2
import pytest
import yaml
from copier.errors import UnsafeTemplateError, UserMessageError
from packaging.metadata import Metadata
from packaging.version import Version
from pathspec import PathSpec

from scenarios import META_EXTRAS, make_template_repo
from support.builds import build_dists, twine_check
from support.clients import RENOVATE_COPIER_UPDATE, install_copier
from support.config import PYTHON_VERSIONS, TEMPLATE_ROOT, copier_config_at, load_copier_config, question_names, table
from support.envs import install_into, make_venv
from support.proc import commit_new_repo, git, run, tool
from support.render import load_answers, project_files, render_project
from support.sharing import shared_folder, shared_once
from support.terminal import Terminal, help_lines

TAG_A = "v1.0.0"
TAG_B = "v1.1.0"
RELEASE_CANDIDATE = "v1.2.0rc1"
WORKFLOW = ".github/workflows/publish.yml"
WORKFLOW_TEMPLATE = Path("template", ".github", "workflows", "publish.yml.jinja")
UPDATING_DOC = TEMPLATE_ROOT / "docs" / "updating.md"
ANSWERS_FILE = ".copier-answers.yml"
# The template fix released at tag B: a new pin for one action and one added step.
NEW_SHA = "0123456789abcdef0123456789abcdef01234567"
NEW_VERSION = "v99.0.0"
FIX_STEP = "Template fix released in v1.1.0"
# What a user changes after the first copy.
USER_README_LINE = "Notes the maintainers wrote after the first copy."
USER_SOURCE_LINE = "ANSWER = 42  # the user's own code"
USER_DEPENDENCY = "requests>=2.31"
CONFLICT_MARKERS = ("<<<<<<< before updating", "=======", ">>>>>>> after updating")
# Paths the template keeps managing (3-way merged on update): never in the user-owned lists.
MANAGED = ["pyproject.toml", "LICENSE", "RELEASING.md", ".gitignore", WORKFLOW, ".github/dependabot.yml"]

# --- Throwaway template repositories -----------------------------------------------------------


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
        text = re.sub(rf"{pin['sha']}(\s+(?:#|version:)\s*){re.escape(pin['version'])}", rf"{NEW_SHA}\g<1>{NEW_VERSION}", text)
        path.write_text(text.replace(pin["sha"], NEW_SHA), encoding="utf-8")
    workflow = repo / WORKFLOW_TEMPLATE
    workflow.write_text(add_step(workflow.read_text(encoding="utf-8"), FIX_STEP), encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", f"Fix publish.yml ({tag})")
    git(repo, "tag", tag)


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


@pytest.fixture(scope="module")
def template_repo() -> TemplateRepo:
    """Tag A = this template; tag B = A plus the publish.yml fix. Made once per run: tests only
    clone it and copy its first project, which spares each a render from git."""

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
    return TemplateRepo(root / "pypi-template", action, root / "first-copy" / "demo-pkg", root / "latest-copy" / "demo-pkg")


# --- Generated projects ------------------------------------------------------------------------


def make_project(parent: Path, src: Path, data: dict[str, Any] | None = None, vcs_ref: str = TAG_A) -> Path:
    """A project generated at `vcs_ref` and committed, as a user has it after the first copy."""
    return commit_new_repo(render_project(parent / "demo-pkg", data, src=src, vcs_ref=vcs_ref), "Generate from pypi-template")


def answers_of(project: Path) -> dict[str, Any]:
    """`project`'s recorded answers, without copier's own keys (_commit, _src_path)."""
    return {k: v for k, v in load_answers(project).items() if not k.startswith("_")}


def render_fresh(parent: Path, project: Path, src: Path) -> Path:
    """A new project rendered at TAG_B with `project`'s recorded answers, to compare with."""
    return render_project(parent / "demo-pkg", answers_of(project), src=src, vcs_ref=TAG_B)


def add_dependency(pyproject: str) -> str:
    assert pyproject.count("dependencies = []") == 1, pyproject
    return pyproject.replace("dependencies = []", f'dependencies = ["{USER_DEPENDENCY}"]')


def edit_as_user(project: Path) -> None:
    """What maintainers do after the first copy: write docs and code, add a dependency."""
    with (project / "README.md").open("a", encoding="utf-8") as fh:
        fh.write(f"\n{USER_README_LINE}\n")
    with (project / "src" / "demo_pkg" / "__init__.py").open("a", encoding="utf-8") as fh:
        fh.write(f"\n{USER_SOURCE_LINE}\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(add_dependency(pyproject.read_text(encoding="utf-8")), encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "Our own work")


def assert_user_edits_intact(project: Path) -> None:
    assert (project / "README.md").read_text(encoding="utf-8").endswith(f"\n{USER_README_LINE}\n")
    assert USER_SOURCE_LINE in (project / "src" / "demo_pkg" / "__init__.py").read_text(encoding="utf-8")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["dependencies"] == [USER_DEPENDENCY]


def assert_merged_cleanly(project: Path) -> None:
    """No `.rej` file, no conflict marker in any file, nothing unmerged in git's index."""
    files = project_files(project)
    assert not [name for name in files if name.endswith(".rej")]
    for name, content in files.items():
        lines = content.decode("utf-8", errors="replace").splitlines()
        assert not set(CONFLICT_MARKERS) & set(lines), name
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""


def changed_paths(project: Path) -> set[str]:
    """Paths `git status` reports as changed since the last commit."""
    status = run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project).stdout
    return {line[3:] for line in status.splitlines()}


def copier_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The copier command users type (never with --trust); the caller checks the exit code."""
    return subprocess.run([tool("copier"), *args], cwd=cwd, capture_output=True, text=True, check=False)


def documented_commands(prefix: str) -> list[list[str]]:
    """The command lines docs/updating.md gives that start with `prefix`, as copier's arguments.

    tests/test_docs.py leaves these lines to the tests here, which check what they do.
    """
    lines = UPDATING_DOC.read_text(encoding="utf-8").splitlines()
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith(prefix)]


def update_api(project: Path, **kwargs: Any) -> None:
    """The API form of `copier update --defaults`, as safe as the CLI without --trust."""
    copier.run_update(project, overwrite=True, unsafe=False, defaults=True, quiet=True, **kwargs)


def workflow_steps(project: Path) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def workflow_environments(project: Path) -> set[str]:
    """Deployment environments the publish workflow's jobs run in (string or `{name: ...}`)."""
    workflow = yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))
    envs = [job.get("environment") for job in workflow["jobs"].values()]
    return {env["name"] if isinstance(env, dict) else env for env in envs if env}


def user_owned(path: str) -> bool:
    """Whether `_skip_if_exists` names `path`, matched as copier matches it (gitignore patterns)."""
    spec = PathSpec.from_lines("gitignore", load_copier_config()["_skip_if_exists"])
    return spec.match_file(path)


# --- 1. A template fix reaches the project; the user's edits stay ----------------------------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_update_brings_fix_and_keeps_user_edits(tmp_path: Path, template_repo: TemplateRepo) -> None:
    """The user's path: `copier update --defaults` on the command line (the API is used below).

    The user also deleted a smoke test (theirs) and RELEASING.md (managed): neither comes back.
    """
    project = template_repo.project_in(tmp_path)
    workflow = project / WORKFLOW
    assert template_repo.old_sha in workflow.read_text(encoding="utf-8")
    edit_as_user(project)
    git(project, "rm", "--quiet", "tests/test_demo_pkg.py", "RELEASING.md")
    git(project, "commit", "--quiet", "--message", "We do not want these")
    before = project_files(project)
    proc = copier_cli("update", "--defaults", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "Updating to template version 1.1.0" in proc.stderr
    assert "git diff" in proc.stderr, proc.stderr  # _message_after_update
    text = workflow.read_text(encoding="utf-8")
    assert NEW_SHA in text and template_repo.old_sha not in text
    assert f"# {NEW_VERSION}" in text
    assert FIX_STEP in [step.get("name") for step in workflow_steps(project)]
    assert_user_edits_intact(project)
    for name in ("README.md", "CHANGELOG.md", "src/demo_pkg/__init__.py"):
        assert (project / name).read_bytes() == before[name], name
    assert not (project / "tests" / "test_demo_pkg.py").exists()
    assert not (project / "RELEASING.md").exists()
    answers = load_answers(project)
    assert answers["_commit"] == TAG_B
    assert answers["_src_path"] == str(template_repo.path)
    assert_merged_cleanly(project)
    # The new pin lands in every workflow that uses the action (ci.yml too), and nowhere else.
    pinned = {p.relative_to(project).as_posix() for p in (project / ".github").rglob("*") if p.is_file() and NEW_SHA in p.read_text(encoding="utf-8")}
    assert WORKFLOW in pinned
    assert changed_paths(project) == {ANSWERS_FILE, *pinned}


@pytest.mark.client
def test_declared_minimum_copier_copies_and_updates(tmp_path: Path, template_repo: TemplateRepo) -> None:
    """`_min_copier_version` is a promise: exactly that copier renders the same project and updates it."""
    minimum = load_copier_config()["_min_copier_version"]
    oldest = install_copier(minimum)
    assert run([oldest, "--version"]).stdout.split() == ["copier", minimum]
    project = tmp_path / "demo-pkg"
    run([oldest, "copy", "--defaults", "--vcs-ref", TAG_A, template_repo.path, project], cwd=tmp_path)
    assert project_files(project) == project_files(template_repo.first_copy)
    commit_new_repo(project, "Generate with the oldest copier")
    edit_as_user(project)
    answers = load_answers(project)
    # Renovate's command: every recorded answer kept, the template release given.
    run([oldest, "update", "--skip-answered", "--defaults", "--answers-file", ANSWERS_FILE, "--vcs-ref", TAG_B], cwd=project)
    assert FIX_STEP in [step.get("name") for step in workflow_steps(project)]
    assert NEW_SHA in (project / WORKFLOW).read_text(encoding="utf-8")
    assert_user_edits_intact(project)
    assert_merged_cleanly(project)
    assert load_answers(project) == {**answers, "_commit": TAG_B}


# --- 2. The user edited the same lines: tests/test_fleet.py's project that bumped a pin itself
# gets inline conflict markers around both pins, git's unmerged state, and a failing sync check.


# --- 3. Refusals leave everything as it was --------------------------------------------------

DIRTY = "Destination repository is dirty; cannot continue. Please commit or stash your local changes and retry."
NOT_GIT = "Updating is only supported in git-tracked subprojects."


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
@pytest.mark.parametrize("state", ["modified", "untracked", "not-git"])
def test_update_refused_and_nothing_changes(tmp_path: Path, template_repo: TemplateRepo, state: str) -> None:
    if state == "not-git":  # the first copy as copier wrote it, before anyone ran `git init`
        project = shutil.copytree(template_repo.first_copy, tmp_path / "demo-pkg", symlinks=True, ignore=shutil.ignore_patterns(".git"))
    else:
        project = template_repo.project_in(tmp_path)
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
@pytest.mark.parametrize(
    "copier_version", ["locked", pytest.param("minimum", marks=pytest.mark.client)]  # the oldest copier: installed
)
def test_update_refuses_an_answer_a_release_no_longer_accepts(
    tmp_path: Path, narrowing_repo: Path, copier_version: str
) -> None:
    """Renovate's command on a project whose python_min the new release dropped: refused, named, nothing changed.

    Without the guard copier deletes the recorded answer and takes the default, python_min 3.11.
    """
    oldest = PYTHON_VERSIONS[0]
    copier = tool("copier") if copier_version == "locked" else str(install_copier(load_copier_config()["_min_copier_version"]))
    project = shutil.copytree(narrowing_repo / "oldest" / "demo-pkg", tmp_path / "demo-pkg", symlinks=True)
    before = project_files(project)
    proc = subprocess.run([copier, *RENOVATE_COPIER_UPDATE, "--vcs-ref", TAG_B], cwd=project, capture_output=True, text=True, check=False)
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
def test_changing_one_answer_never_replaces_another_silently(tmp_path: Path, template_repo: TemplateRepo) -> None:
    """A flit-core library made a meta-package: flit-core cannot build one, and copier would switch
    the project to setuptools without a word. The update refuses; both answers together go through."""
    project = make_project(tmp_path / "flit", template_repo.path, {"build_backend": "flit-core"})
    before = project_files(project)
    meta = ["--data", "project_kind=meta-package", "--data", f"extras={json.dumps(META_EXTRAS)}"]
    proc = copier_cli("update", "--defaults", *meta, cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "Validation error for question 'build_backend': recorded answer now invalid\n" in proc.stderr
    offered = ", ".join(name for name, spec in table("backends").items() if spec["meta_package"])
    assert f'build_backend "flit-core" in {ANSWERS_FILE} is no longer accepted: a meta-package builds with {offered}.' in proc.stderr
    assert_nothing_changed(project, before)
    # docs/updating.md shows this very message.
    documented = UPDATING_DOC.read_text(encoding="utf-8").split("ValueError: Validation error for question 'build_backend'", 1)[1]
    shown = ("ValueError: Validation error for question 'build_backend'" + documented.split("```", 1)[0]).strip()
    assert shown in proc.stderr, shown
    proc = copier_cli("update", "--defaults", *meta, "--data", "build_backend=hatchling", cwd=project)
    assert proc.returncode == 0, proc.stderr
    answers = load_answers(project)
    assert (answers["project_kind"], answers["build_backend"]) == ("meta-package", "hatchling")


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
    assert f'description "{description}" in {ANSWERS_FILE} is no longer accepted: it breaks one of its rules.' in proc.stderr
    assert f'copier would replace it with "{load_copier_config()["description"]["default"]}" without a word' in proc.stderr
    assert_nothing_changed(project, before)


NEW_DESCRIPTION = "Tools that make acme faster, typed at the prompt"


@pytest.mark.slow  # an update through copier's real prompt (pseudo-terminal)
@pytest.mark.parametrize(
    "copier_version", ["locked", pytest.param("minimum", marks=pytest.mark.client)]  # the oldest copier: installed
)
def test_interactive_update_takes_a_typed_text_answer_and_a_new_choice(
    tmp_path: Path, template_repo: TemplateRepo, copier_version: str
) -> None:
    """docs/updating.md: without --defaults copier asks every question again, pre-filled. A new
    description typed at its prompt and a license picked with the arrow keys both go through:
    the guard above refuses only a default copier substitutes for a recorded answer."""
    copier = tool("copier") if copier_version == "locked" else str(install_copier(load_copier_config()["_min_copier_version"]))
    project = template_repo.project_in(tmp_path)
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
            terminal.child.send("\r")
    finally:
        status = terminal.close()
    assert "Validation error" not in terminal.text()
    assert status == 0, terminal.text()
    assert {"description", "license", "use_renovate"} <= set(answered)
    answers = load_answers(project)
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
    edit(repo, ANSWERS_JINJA, " use_testpypi use_renovate').split()", f" use_testpypi use_renovate {RETIRED}').split()")
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


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_narrowing_a_table_is_detected(tmp_path: Path) -> None:
    repo = make_template_repo(tmp_path / "pypi-template")
    narrow_python_versions(repo, TAG_B, "3.10")
    old, new = (copier_config_at(repo, tag) for tag in (TAG_A, TAG_B))
    assert removed_choices(old, new) == {"python_versions": ["3.10"]}
    assert removed_choices(old, old) == {}


def test_releases_that_narrow_a_table_are_major_and_say_so() -> None:
    """Across this repository's release tags (none in a tagless clone): a release that stops
    accepting a table value is a major release whose changelog entry needs attention and names it."""
    tags = sorted((Version(tag) for tag in git(TEMPLATE_ROOT, "tag", "--list", "v*").split()), key=lambda v: v)
    changelog = (TEMPLATE_ROOT / "docs" / "changelog.md").read_text(encoding="utf-8")
    sections = {Version(s.split(maxsplit=1)[0]): s for s in re.split(r"^## ", changelog, flags=re.MULTILINE)[1:]}
    for older, newer in zip(tags, tags[1:]):
        old, new = (copier_config_at(TEMPLATE_ROOT, f"v{v}") for v in (older, newer))
        removed = removed_choices(old, new)
        if removed:
            assert newer.major > older.major, (newer, removed)
            assert "Update needs attention: **yes**" in sections[newer]
            assert all(f"`{value}`" in sections[newer] for values in removed.values() for value in values)


# --- 4. Answer changes regenerate the managed files, and the project still builds -------------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
@pytest.mark.parametrize(
    ("question", "value"),
    [("use_testpypi", False), ("build_backend", "hatchling"), ("license", "Apache-2.0")],
    ids=["use_testpypi", "build_backend", "license"],
)
def test_answer_change_regenerates_managed_files(
    tmp_path: Path, template_repo: TemplateRepo, question: str, value: Any
) -> None:
    """The command docs/updating.md gives for each answer (test_docs leaves those lines to this test)."""
    project = template_repo.project_in(tmp_path)
    edit_as_user(project)
    before = project_files(project)
    (args,) = documented_commands(f"copier update --defaults --data {question}=")
    # The command line gives text ("false"): copier must turn it into the question's type.
    proc = copier_cli(*args, cwd=project)
    assert proc.returncode == 0, proc.stderr
    answers = load_answers(project)
    assert (answers[question], answers["_commit"]) == (value, TAG_B)
    assert_merged_cleanly(project)
    assert_user_edits_intact(project)
    after = project_files(project)
    # Managed files equal a fresh render with the new answers (pyproject.toml plus the user's edit).
    for name, content in project_files(render_fresh(tmp_path / "fresh", project, template_repo.path)).items():
        if name == ANSWERS_FILE or user_owned(name):
            continue
        expected = add_dependency(content.decode()).encode() if name == "pyproject.toml" else content
        assert after[name] == expected, name
    # The user's files are not touched by an answer change either.
    owned = [name for name in before if user_owned(name)]
    assert {"README.md", "CHANGELOG.md", "src/demo_pkg/__init__.py"} <= set(owned)
    for name in owned:
        assert after[name] == before[name], name
    if question == "use_testpypi":
        assert "`testpypi`" in before["RELEASING.md"].decode()
        assert "`testpypi`" not in after["RELEASING.md"].decode()
        assert workflow_environments(project) == {"pypi"}
    elif question == "build_backend":
        pyproject = tomllib.loads(after["pyproject.toml"].decode())
        backend = table("backends")["hatchling"]
        assert pyproject["build-system"] == {"requires": [backend["requires"]], "build-backend": backend["build_backend"]}
        assert "setuptools" not in pyproject["tool"] and "hatch" in pyproject["tool"]
    else:
        assert tomllib.loads(after["pyproject.toml"].decode())["project"]["license"] == "Apache-2.0"
        assert after["LICENSE"].decode().lstrip().startswith("Apache License\n")
        assert after["LICENSE"] != before["LICENSE"]


def wheel_generator(wheel: Path) -> str:
    """The `Generator:` field of the wheel's WHEEL file: which backend built it."""
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/WHEEL")]
        fields = dict(line.split(": ", 1) for line in zf.read(name).decode().splitlines() if ": " in line)
    return fields["Generator"]


@pytest.mark.slow
def test_project_still_builds_after_answer_changes(tmp_path: Path, template_repo: TemplateRepo) -> None:
    """All three answers changed in one update (each alone is checked above): build, twine, metadata."""
    project = template_repo.project_in(tmp_path)
    edit_as_user(project)
    update_api(project, data={"use_testpypi": False, "build_backend": "hatchling", "license": "Apache-2.0"})
    assert_merged_cleanly(project)
    dists = build_dists(project, tmp_path / "dist")
    passed, output = twine_check(dists.sdist, dists.wheel)
    assert passed and output.count("PASSED") == 2, output
    meta = Metadata.from_email(dists.wheel_metadata_bytes(), validate=True)
    assert meta.license_expression == "Apache-2.0"
    assert [str(r) for r in meta.requires_dist or []] == [USER_DEPENDENCY]
    assert wheel_generator(dists.wheel).startswith("hatchling")


@pytest.mark.slow
def test_renaming_as_releasing_md_advises_gives_a_working_project(tmp_path: Path, template_repo: TemplateRepo) -> None:
    """RELEASING.md's "name is taken" advice, followed to the letter: nothing still names the old project."""
    # The repository keeps its own name: only the distribution is renamed.
    project = make_project(tmp_path, template_repo.path, {"build_backend": "uv-build", "repository_name": "acme-repo"})
    releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
    section = releasing.split("### `This package name is not available`", 1)[1].split("\n### ", 1)[0]
    (command,) = [line for line in section.splitlines() if line.startswith("copier update")]
    proc = copier_cli(*shlex.split(command.replace("NEW-NAME", "acme-renamed"))[1:], cwd=project)
    assert proc.returncode == 0, proc.stderr
    # The part the advice leaves to the user: the one line of code that names the distribution.
    init = project / "src" / "demo_pkg" / "__init__.py"
    assert 'version("demo-pkg")' in section and 'version("demo-pkg")' in init.read_text(encoding="utf-8")
    init.write_text(init.read_text(encoding="utf-8").replace('version("demo-pkg")', 'version("acme-renamed")'), encoding="utf-8")
    managed = [name for name in project_files(project) if not user_owned(name)]
    assert [name for name in managed if "demo-pkg" in (project / name).read_text(encoding="utf-8")] == []
    verify = [step["run"] for step in workflow_steps(project) if "--project" in step.get("run", "")]
    assert verify and all("--project acme-renamed" in run_line for run_line in verify), verify
    dists = build_dists(project, tmp_path / "dist")
    assert dists.wheel.name.startswith("acme_renamed-0.1.0-")
    python = make_venv(tmp_path / "venv")
    install_into(python, dists.wheel, "pytest>=8")
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)  # the project's own smoke test


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


# --- Template versions: tags, check-update, latest tag ----------------------------------------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
def test_check_update_reports_a_new_tag(tmp_path: Path, template_repo: TemplateRepo) -> None:
    """The three check-update lines docs/updating.md gives, on a project at the newest release and one behind."""
    plain, quiet, as_json = documented_commands("copier check-update")
    assert (plain, quiet, as_json) == (["check-update"], ["check-update", "--quiet"], ["check-update", "--output-format", "json"])
    # Prereleases are for trying a template release: nobody is offered them by default.
    assert copier_cli(*quiet, cwd=template_repo.latest_copy).returncode == 0  # at the newest release
    project = template_repo.project_in(tmp_path)
    proc = copier_cli(*plain, cwd=project)
    assert proc.returncode == 0 and "New template version available" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
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
def test_recopy_restores_a_hand_broken_workflow(tmp_path: Path, template_repo: TemplateRepo) -> None:
    project = template_repo.project_in(tmp_path)
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
    copier.run_recopy(project, defaults=True, overwrite=True, unsafe=False, quiet=True)  # `copier recopy --defaults --overwrite`
    git(project, "add", WORKFLOW)
    git(project, "restore", ".")
    fresh = template_repo.latest_copy  # a new copy of TAG_B with the same answers
    assert answers_of(project) == answers_of(fresh)
    assert workflow.read_bytes() == (fresh / WORKFLOW).read_bytes()
    assert changed_paths(project) == {WORKFLOW}
    assert_user_edits_intact(project)


# --- Ownership split and template versions are stated once and kept consistent ----------------


def test_user_owned_paths_agree_in_config_and_docs() -> None:
    config = load_copier_config()
    owned = config["_skip_if_exists"]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    on = {op: [env.from_string(p).render(_copier_operation=op) for p in config["_exclude"]] for op in ("copy", "update")}
    # Excluded on update and only then: exactly the user-owned paths.
    assert [p for p in on["update"] if p not in on["copy"]] == owned
    # Setting _exclude replaced copier's defaults: they must all still be there.
    assert {"copier.yaml", "copier.yml", "~*", "*.py[co]", "__pycache__", ".git", ".DS_Store", ".svn"} <= set(on["copy"])
    for path in MANAGED:
        assert not user_owned(path), path
    docs = (TEMPLATE_ROOT / "docs" / "updating.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([^`]+)` \| yours \|", docs, flags=re.MULTILINE)
    assert sorted(path.strip("/") for path in documented) == sorted(path.strip("/") for path in owned)


def test_changelog_has_a_pep440_section_per_release() -> None:
    text = (TEMPLATE_ROOT / "docs" / "changelog.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    assert sections, "docs/changelog.md has no release section"
    versions = [Version(section.split(maxsplit=1)[0]) for section in sections]
    assert versions == sorted(set(versions), reverse=True), versions
    for section in sections:
        assert re.search(r"^Update needs attention: \*\*(yes|no)\*\*", section, flags=re.MULTILINE), section[:200]
    # Every release tag of this repository has its section (none yet in a tagless clone).
    for tag in git(TEMPLATE_ROOT, "tag", "--list", "v*").split():
        assert Version(tag) in versions, tag


# --- The messages after a copy and after an update ---------------------------------------------

# 41 characters, which PyPI normalises to another spelling: the copy message then has its longest form.
LONG_NAME = "Acme.Enterprise_Widget-Toolkit.For-Cloud9"


def message_words(setting: str, answers: dict[str, Any]) -> list[str]:
    """The words of copier.yml's `setting` rendered with `answers` and no wrapping: what it says."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["wordwrap"] = lambda text, *args, **kwargs: text
    return env.from_string(load_copier_config()[setting]).render(**answers).split()


def printed_message(stderr: str, words: list[str]) -> list[str]:
    """The lines copier printed from the one that starts the message, without trailing blank lines."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(" ".join(words[:3])))
    return "\n".join(lines[start:]).rstrip("\n").splitlines()


@pytest.mark.slow  # a copy and an update from a template repository (copier's CLI)
def test_messages_fit_80_columns_and_split_no_word(tmp_path: Path) -> None:
    """A terminal wraps a longer line at column 80, mid-word: each line of both messages fits, with
    a long project name, and says every word of the message, whole and in order."""
    repo = make_template_repo(tmp_path / "template")
    project = tmp_path / "acme"
    copy = copier_cli("copy", "--defaults", "--data", f"project_name={LONG_NAME}", str(repo), str(project), cwd=tmp_path)
    assert copy.returncode == 0, copy.stderr
    normalized = re.sub(r"[-_.]+", "-", LONG_NAME).lower()
    copy_words = message_words("_message_after_copy", {"project_name": LONG_NAME, "normalized_name": normalized})
    assert f"(https://pypi.org/project/{normalized}/);" in copy_words  # the longest form, normalised name included
    commit_new_repo(project, "Generate from pypi-template")
    update = copier_cli("update", "--defaults", "--data", "license=Apache-2.0", cwd=project)
    assert update.returncode == 0, update.stderr
    update_words = message_words("_message_after_update", {})
    for stderr, words in [(copy.stderr, copy_words), (update.stderr, update_words)]:
        lines = printed_message(stderr, words)
        assert [line for line in lines if len(line) > 80] == [], lines
        assert " ".join(lines).split() == words, lines
