"""Answer changes on update: the managed files are regenerated as a fresh copy would have them,
the user's files stay, and the project still builds (renamed too); the messages after a copy and
after an update fit a terminal.

Template repositories: scenarios.update_template or throwaway ones, as in tests/test_update.py.
"""

from __future__ import annotations

import re
import shlex
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from packaging.metadata import Metadata

from scenarios import NEW_SHA, TAG_B, TemplateRepo, make_project, make_template_repo
from support.builds import build_dists, twine_check
from support.config import load_copier_config, table
from support.envs import install_into, make_venv
from support.proc import commit_new_repo, git, run
from support.render import load_answers, project_files, render_project
from support.updating import (
    ANSWERS_FILE,
    USER_DEPENDENCY,
    WORKFLOW,
    add_dependency,
    answers_of,
    assert_merged_cleanly,
    assert_user_edits_intact,
    copier_cli,
    documented_commands,
    edit_as_user,
    update_api,
    user_owned,
    workflow_steps,
)


def render_fresh(parent: Path, project: Path, src: Path) -> Path:
    """A new project rendered at TAG_B with `project`'s recorded answers, to compare with."""
    return render_project(parent / "demo-pkg", answers_of(project), src=src, vcs_ref=TAG_B)


def workflow_environments(project: Path) -> set[str]:
    """Deployment environments the publish workflow's jobs run in (string or `{name: ...}`)."""
    workflow = yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))
    envs = [job.get("environment") for job in workflow["jobs"].values()]
    return {env["name"] if isinstance(env, dict) else env for env in envs if env}


# --- 4. Answer changes regenerate the managed files, and the project still builds -------------


@pytest.mark.slow  # a copy or update from a template repository (git, copier's CLI)
@pytest.mark.parametrize(
    ("question", "value"),
    [("use_testpypi", False), ("build_backend", "hatchling"), ("license", "Apache-2.0"), ("docs_site", "sphinx")],
    ids=["use_testpypi", "build_backend", "license", "docs_site"],
)
def test_answer_change_regenerates_managed_files(
    tmp_path: Path, update_repo: TemplateRepo, question: str, value: Any
) -> None:
    """The command docs/updating.md gives for each answer (tests/test_documented_commands.py leaves those
    lines to this test)."""
    project = update_repo.project_in(tmp_path)
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
    for name, content in project_files(render_fresh(tmp_path / "fresh", project, update_repo.path)).items():
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
        assert pyproject["build-system"] == {
            "requires": [backend["requires"]],
            "build-backend": backend["build_backend"],
        }
        assert "setuptools" not in pyproject["tool"]
        assert "hatch" in pyproject["tool"]
    elif question == "docs_site":
        # Switched on: the site's sources, its workflow, its tools and its link arrive; nothing else moves.
        added = {"docs/conf.py", "docs/index.md", "docs/api.md", ".github/workflows/docs.yml"}
        assert set(after) - set(before) == added
        pinned_by_fix = {name for name, content in after.items() if NEW_SHA.encode() in content} - added
        pyproject = tomllib.loads(after["pyproject.toml"].decode())
        assert pyproject["project"]["urls"]["Documentation"] == "https://your-github-user.github.io/demo-pkg/"
        assert "docs" in pyproject["dependency-groups"]
        changed = {name for name in before if after.get(name) != before[name]}
        assert changed == {
            ANSWERS_FILE, "pyproject.toml", "RELEASING.md", "CONTRIBUTING.md", ".github/dependabot.yml", *pinned_by_fix
        }  # fmt: skip
        assert "\n## Documentation\n" in after["CONTRIBUTING.md"].decode()  # the site's local build
    else:
        assert tomllib.loads(after["pyproject.toml"].decode())["project"]["license"] == "Apache-2.0"
        assert after["LICENSE"].decode().lstrip().startswith("Apache License\n")
        assert after["LICENSE"] != before["LICENSE"]


@pytest.mark.slow  # an update from a template repository
def test_update_from_before_docs_site_changes_nothing_but_the_fix(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """A project from a release that did not ask docs_site (its answers file lacks it) updates to
    `none`: every file stays byte for byte what it was, but the template fix and the answers file."""
    project = update_repo.project_in(tmp_path)
    answers_file = project / ANSWERS_FILE
    text = answers_file.read_text(encoding="utf-8")
    assert text.count("docs_site: none\n") == 1, text
    answers_file.write_text(text.replace("docs_site: none\n", ""), encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "As the release before docs_site wrote it")
    before = project_files(project)
    update_api(project)
    after = project_files(project)
    fixed = {name for name, content in after.items() if NEW_SHA.encode() in content}
    assert fixed
    assert {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)} == {
        ANSWERS_FILE,
        *fixed,
    }
    assert load_answers(project)["docs_site"] == "none"


def wheel_generator(wheel: Path) -> str:
    """The `Generator:` field of the wheel's WHEEL file: which backend built it."""
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/WHEEL")]
        fields = dict(line.split(": ", 1) for line in zf.read(name).decode().splitlines() if ": " in line)
    return fields["Generator"]


@pytest.mark.slow
def test_project_still_builds_after_answer_changes(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """All three answers changed in one update (each alone is checked above): build, twine, metadata."""
    project = update_repo.project_in(tmp_path)
    edit_as_user(project)
    update_api(project, data={"use_testpypi": False, "build_backend": "hatchling", "license": "Apache-2.0"})
    assert_merged_cleanly(project)
    dists = build_dists(project, tmp_path / "dist")
    passed, output = twine_check(dists.sdist, dists.wheel)
    assert passed, output
    assert output.count("PASSED") == 2, output
    meta = Metadata.from_email(dists.wheel_metadata_bytes(), validate=True)
    assert meta.license_expression == "Apache-2.0"
    assert [str(r) for r in meta.requires_dist or []] == [USER_DEPENDENCY]
    assert wheel_generator(dists.wheel).startswith("hatchling")


@pytest.mark.slow
def test_renaming_as_releasing_md_advises_gives_a_working_project(tmp_path: Path, update_repo: TemplateRepo) -> None:
    """RELEASING.md's "name is taken" advice, followed to the letter: nothing still names the old project."""
    # The repository keeps its own name: only the distribution is renamed.
    project = make_project(tmp_path, update_repo.path, {"build_backend": "uv-build", "repository_name": "acme-repo"})
    releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
    section = releasing.split("### `This package name is not available`", 1)[1].split("\n### ", 1)[0]
    (command,) = [line for line in section.splitlines() if line.startswith("copier update")]
    proc = copier_cli(*shlex.split(command.replace("NEW-NAME", "acme-renamed"))[1:], cwd=project)
    assert proc.returncode == 0, proc.stderr
    # The part the advice leaves to the user: each of their files that still names the distribution
    # is one it names, and changing them there leaves no old name anywhere.
    files = project_files(project)
    naming = sorted(name for name, data in files.items() if b"demo-pkg" in data)
    assert naming == ["CHANGELOG.md", "README.md", "src/demo_pkg/__init__.py"]
    assert [name for name in naming if user_owned(name) and f"`{name}`" in section] == naming
    assert 'version("demo-pkg")' in section
    for name in naming:
        (project / name).write_bytes(files[name].replace(b"demo-pkg", b"acme-renamed"))
    verify = [step["run"] for step in workflow_steps(project) if "--project" in step.get("run", "")]
    assert verify, verify
    assert all("--project acme-renamed" in run_line for run_line in verify), verify
    dists = build_dists(project, tmp_path / "dist")
    assert dists.wheel.name.startswith("acme_renamed-0.1.0-")
    python = make_venv(tmp_path / "venv")
    install_into(python, dists.wheel, "pytest>=8")
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)  # the project's own smoke test


# --- The messages after a copy and after an update ---------------------------------------------

# 41 characters, which PyPI normalises to another spelling: the copy message then has its longest form.
LONG_NAME = "Acme.Enterprise_Widget-Toolkit.For-Cloud9"


def message_words(setting: str, answers: dict[str, Any]) -> list[str]:
    """The words of copier.yml's `setting` rendered with `answers` and no wrapping: what it says."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["wordwrap"] = lambda text, *_args, **_kwargs: text
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
    copy = copier_cli(
        "copy", "--defaults", "--data", f"project_name={LONG_NAME}", str(repo), str(project), cwd=tmp_path
    )
    assert copy.returncode == 0, copy.stderr
    normalized = re.sub(r"[-_.]+", "-", LONG_NAME).lower()
    copy_words = message_words("_message_after_copy", {**load_answers(project), "normalized_name": normalized})
    assert f"(https://pypi.org/project/{normalized}/);" in copy_words  # the longest form, normalised name included
    commit_new_repo(project, "Generate from pypi-template")
    update = copier_cli("update", "--defaults", "--data", "license=Apache-2.0", cwd=project)
    assert update.returncode == 0, update.stderr
    update_words = message_words("_message_after_update", {})
    for stderr, words in [(copy.stderr, copy_words), (update.stderr, update_words)]:
        lines = printed_message(stderr, words)
        assert [line for line in lines if len(line) > 80] == [], lines
        assert " ".join(lines).split() == words, lines
