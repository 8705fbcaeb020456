"""A fleet: ten projects generated at v1.0.0, edited by their maintainers, updated to v1.1.0 with
the exact command Renovate's copier manager runs.

The template is a throwaway tagged copy of this one (helpers.fleet_template), reached through a
`git+file://` URL as Renovate reaches it offline; v1.1.0 adds a step to publish.yml and moves an
action pin. For every project: the fix arrived or the conflict is visible, no user edit is lost,
no answer changed, and check_template_sync.py fails exactly on the conflicted ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.cli.main_command import main as check_jsonschema
from click.testing import CliRunner

from helpers import (
    FLEET_FIX_STEP,
    FLEET_NEW_PIN,
    FLEET_PIN,
    FLEET_RELEASES,
    FLEET_WORKFLOW,
    META_EXTRAS,
    PYTHON,
    RENOVATE_COPIER_UPDATE,
    RENOVATE_VERSION,
    TEMPLATE_ROOT,
    commit_new_repo,
    fleet_copy,
    fleet_template,
    git,
    load_answers,
    project_files,
    run,
    table,
    tool,
)

OLD, NEW = FLEET_RELEASES
RENOVATE_COMMAND = [*RENOVATE_COPIER_UPDATE, "--vcs-ref", NEW]
PUBLISH, CI = ".github/workflows/publish.yml", ".github/workflows/ci.yml"
MARKERS = ("<<<<<<< before updating", "=======", ">>>>>>> after updating")
README_LINE = "Maintainers' notes, written after the first copy."
DEPENDENCY = "requests>=2.31"
USER_SHA = "fedcba9876543210fedcba9876543210fedcba98"


# --- What maintainers do after the first copy --------------------------------------------------

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
        fh.write("\n[tool.coverage.run]\nbranch = true\n")


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


def meta(backend: str, **answers: Any) -> dict[str, Any]:
    return {"project_kind": "meta-package", "build_backend": backend, "extras": META_EXTRAS, **answers}


FLEET = [
    Member("lib-setuptools", {}, ()),
    Member("lib-hatchling", {"build_backend": "hatchling"}, ("readme",)),
    Member("lib-flit-core", {"build_backend": "flit-core"}, ("dependency", "readme")),
    Member("lib-pdm-pypi-only", {"build_backend": "pdm-backend", "use_testpypi": False}, ("tools",)),
    Member("lib-uv-build", {"build_backend": "uv-build"}, ("publish-line", "dependency")),
    Member("lib-poetry-core", {"build_backend": "poetry-core", "python_min": "3.12"}, ("pin-bump", "readme")),
    Member("meta-setuptools", meta("setuptools"), ("no-ci",)),
    Member("meta-hatchling-pypi-only", meta("hatchling", use_testpypi=False), ("readme", "dependency", "tools")),
    Member("meta-pdm-backend", meta("pdm-backend"), ("pin-bump", "tools")),
    Member("meta-uv-pypi-only", meta("uv-build", use_testpypi=False), ("no-ci", "publish-line", "readme")),
]


def test_the_fleet_covers_what_projects_do() -> None:
    assert len(FLEET) >= 10
    assert {m.answers.get("project_kind", "library") for m in FLEET} == {"library", "meta-package"}
    assert len({m.answers.get("build_backend", "setuptools") for m in FLEET}) >= 4
    assert {m.answers.get("use_testpypi", True) for m in FLEET} == {True, False}
    assert {edit for m in FLEET for edit in m.edits} == set(EDITS)
    assert any(m.conflicts for m in FLEET) and not all(m.conflicts for m in FLEET)


def maintained_copy(member: Member, dst: Path) -> Path:
    """The member's first copy at `dst`, with its maintainers' edits committed."""
    project = shutil.copytree(fleet_copy(member.name, member.answers), dst, symlinks=True)
    for edit in member.edits:
        EDITS[edit](project)
    git(project, "commit", "--quiet", "--all", "--allow-empty", "--message", "Our own work")
    return project


# --- The update, project by project ------------------------------------------------------------

def answers_without_commit(project: Path) -> dict[str, Any]:
    return {key: value for key, value in load_answers(project).items() if key != "_commit"}


def sync_check(project: Path) -> subprocess.CompletedProcess[str]:
    """The project's own check, as its ci.yml runs it."""
    env = {"PATH": "/usr/bin:/bin"}  # no GITHUB_ACTIONS: plain `error:` lines
    return subprocess.run(
        [PYTHON, ".github/scripts/check_template_sync.py"], cwd=project, capture_output=True, text=True, check=False, env=env
    )


@pytest.mark.slow  # ten copier copies and updates: about 25 s of CPU
@pytest.mark.parametrize("member", FLEET, ids=[m.name for m in FLEET])
def test_renovate_command_updates_each_project(member: Member, tmp_path: Path) -> None:
    project = maintained_copy(member, tmp_path / member.name)
    assert load_answers(project)["_src_path"] == f"git+file://{fleet_template()}"
    before = project_files(project)
    answers = answers_without_commit(project)
    assert sync_check(project).returncode == 0  # a clean project at v1.0.0 passes

    proc = subprocess.run([tool("copier"), *RENOVATE_COMMAND], cwd=project, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr  # copier exits 0 with conflicts too
    after = project_files(project)

    # No answer changed; the project records the new release.
    assert answers_without_commit(project) == answers
    assert load_answers(project)["_commit"] == NEW
    # The fix arrived: the new step, and the new pin in every workflow the project still has.
    publish = after[PUBLISH].decode()
    assert FLEET_FIX_STEP in publish
    for name in (PUBLISH, CI):
        if name in after:
            assert FLEET_NEW_PIN["sha"] in after[name].decode(), name
    conflicted = git(project, "diff", "--name-only", "--diff-filter=U").splitlines()
    if member.conflicts:
        # The conflict is visible: inline markers around both pins, and git's unmerged state.
        assert conflicted == [PUBLISH]
        assert set(MARKERS) <= set(publish.splitlines())
        assert USER_SHA in publish
    else:
        assert conflicted == []
        assert not [name for name, data in after.items() if set(MARKERS) & set(data.decode(errors="replace").splitlines())]
        for name in (PUBLISH, CI):
            if name in after:
                assert table("actions")[FLEET_PIN]["sha"] not in after[name].decode(), name
    assert not [name for name in after if name.endswith(".rej")]

    # No user edit is lost.
    assert_edits_kept(member, before, after)

    # The check in ci.yml fails exactly on the conflicted projects, naming the file and line.
    check = sync_check(project)
    assert check.returncode == (1 if member.conflicts else 0), check.stdout + check.stderr
    if member.conflicts:
        lines = re.findall(rf"^error: {re.escape(PUBLISH)}:(\d+): conflict marker", check.stderr, re.M)
        numbers = [i for i, line in enumerate(publish.splitlines(), start=1) if line in MARKERS]
        assert [int(n) for n in lines] == numbers, check.stderr

    if not member.edits:
        # An untouched project is exactly a new copy of the new release.
        assert after == project_files(fleet_copy(member.name, member.answers, release=NEW))


def assert_edits_kept(member: Member, before: dict[str, bytes], after: dict[str, bytes]) -> None:
    for name in ("README.md", "CHANGELOG.md"):
        assert after[name] == before[name], name  # the user's own files: never touched
    pyproject = tomllib.loads(after["pyproject.toml"].decode())
    if "dependency" in member.edits:
        assert pyproject["project"]["dependencies"] == [DEPENDENCY]
    if "tools" in member.edits:
        assert pyproject["tool"]["ruff"]["line-length"] == 120
        assert pyproject["tool"]["coverage"]["run"] == {"branch": True}
    if "readme" in member.edits:
        assert after["README.md"].decode().endswith(f"\n{README_LINE}\n")
    if "publish-line" in member.edits:
        assert "    timeout-minutes: 25\n" in after[PUBLISH].decode()
    if "no-ci" in member.edits:
        assert CI not in after
    else:
        assert CI in after
    # Nothing else the user had is gone.
    assert set(before) <= set(after)


# --- The organisation-wide Renovate workflow (fleet/renovate.yml) -----------------------------

def test_fleet_workflow_passes_zizmor_pedantic_and_the_schema() -> None:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--persona", "pedantic", "--no-config", "--format", "json", FLEET_WORKFLOW],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and json.loads(proc.stdout) == [], proc.stdout + proc.stderr
    # The one silenced finding, on its line with the reason (docs/automatic-updates.md says why).
    text = FLEET_WORKFLOW.read_text(encoding="utf-8")
    assert re.findall(r"# zizmor: ignore\[([\w-]+)\] (.+)", text) == [("github-app", "Renovate finds them by topic")]
    result = CliRunner().invoke(check_jsonschema, ["--builtin-schema", "vendor.github-workflows", str(FLEET_WORKFLOW)])
    assert result.exit_code == 0, result.output


def test_fleet_workflow_is_pinned_scoped_and_runs_the_tested_renovate() -> None:
    workflow = yaml.safe_load(FLEET_WORKFLOW.read_text(encoding="utf-8"))
    assert workflow[True] == {"schedule": [{"cron": "17 5 * * 1-5"}], "workflow_dispatch": None}  # `on`
    assert workflow["permissions"] == {} and workflow["concurrency"]["cancel-in-progress"] is False
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {} and job["environment"] == "renovate"  # the App's token does the work
    assert job["name"] and isinstance(job["timeout-minutes"], int)
    token, renovate = job["steps"]
    for step in (token, renovate):
        assert step["name"] and re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step
    text = FLEET_WORKFLOW.read_text(encoding="utf-8")
    assert len(re.findall(r"uses: \S+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", text, re.M)) == 2
    assert token["uses"].startswith("actions/create-github-app-token@")
    assert token["with"]["private-key"] == "${{ secrets.RENOVATE_APP_PRIVATE_KEY }}"
    assert {k for k in token["with"] if k.startswith("permission-")} >= {"permission-workflows", "permission-pull-requests"}
    assert renovate["with"]["token"] == "${{ steps.app-token.outputs.token }}"
    # The Renovate the tests run (tests/test_renovate.py): a new one is tested before it is rolled out.
    assert renovate["with"]["renovate-version"] == RENOVATE_VERSION
    assert renovate["env"]["RENOVATE_ALLOW_SCRIPTS"] == "false"
    assert renovate["env"]["RENOVATE_AUTODISCOVER_TOPICS"] == "pypi-template"


# --- No Renovate: the rollout loop of docs/updating.md -----------------------------------------

UPDATING = TEMPLATE_ROOT / "docs" / "updating.md"
ORG = "acme-corp"
# A stand-in for the GitHub CLI: `repo list` and `repo clone` from local bare repositories,
# `pr create` recorded as a JSON line.
FAKE_GH = r'''#!/usr/bin/env python3
import json, os, subprocess, sys
args = sys.argv[1:]
remotes = os.environ["FAKE_GH_REMOTES"]
if args[:2] == ["repo", "list"]:
    for org in sorted(os.listdir(remotes)):
        for name in sorted(os.listdir(os.path.join(remotes, org))):
            print(f"{org}/{name.removesuffix('.git')}")
elif args[:2] == ["repo", "clone"]:
    repo, folder, *rest = args[2:]
    extra = rest[1:] if rest[:1] == ["--"] else rest
    sys.exit(subprocess.call(["git", "clone", *extra, os.path.join(remotes, repo + ".git"), folder]))
elif args[:2] == ["pr", "create"]:
    origin = subprocess.check_output(["git", "remote", "get-url", "origin"], text=True).strip()
    with open(os.environ["FAKE_GH_LOG"], "a") as log:
        log.write(json.dumps({"remote": origin, "args": args[2:]}) + "\n")
    print("https://github.invalid/pull/1")
else:
    sys.exit(f"fake gh: unsupported: {args}")
'''


def rollout_script(release: str) -> str:
    """The loop docs/updating.md gives, for the fleet's organisation and release."""
    (script,) = [body for body in re.findall(r"```bash\n(.*?)```", UPDATING.read_text(encoding="utf-8"), re.S)
                 if "gh pr create" in body]  # fmt: skip
    assert "org=acme-corp release=v1.2.0\n" in script
    return script.replace("release=v1.2.0\n", f"release={release}\n")


def bare_remote(remotes: Path, name: str, project: Path) -> Path:
    remote = remotes / ORG / f"{name}.git"
    run(["git", "clone", "--quiet", "--bare", project, remote])
    return remote


@pytest.mark.slow  # two copier updates and two runs of the loop
def test_rollout_loop_is_safe_to_rerun(tmp_path: Path) -> None:
    remotes = tmp_path / "remotes"
    behind = FLEET[0]  # updates cleanly
    conflicted = next(m for m in FLEET if m.conflicts)
    for member in (behind, conflicted):
        bare_remote(remotes, member.name, maintained_copy(member, tmp_path / "work" / member.name))
    bare_remote(remotes, "current", fleet_copy(behind.name, behind.answers, release=NEW))  # already on the release
    other = tmp_path / "work" / "other"
    other.mkdir()
    (other / "README.md").write_text("Not generated from pypi-template.\n", encoding="utf-8")
    commit_new_repo(other, "something else")
    bare_remote(remotes, "other", other)

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH, encoding="utf-8")
    (bin_dir / "gh").chmod(0o755)
    log = tmp_path / "prs.jsonl"
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), str(Path(PYTHON).parent), os.environ["PATH"]]),
           "FAKE_GH_REMOTES": str(remotes), "FAKE_GH_LOG": str(log)}  # fmt: skip
    run_dir = tmp_path / "laptop"
    run_dir.mkdir()
    script = rollout_script(NEW)
    branch = f"pypi-template-{NEW}"

    first = run(["bash", "-c", script], cwd=run_dir, env=env)
    prs = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    # One pull request each; a conflict gets a draft, which cannot be merged by accident.
    drafts = {Path(pr["remote"]).name: "--draft" in pr["args"] for pr in prs}
    assert (len(prs), drafts) == (2, {f"{behind.name}.git": False, f"{conflicted.name}.git": True}), first.stdout + first.stderr
    assert f"{ORG}/current: already on {NEW}" in first.stdout
    for name, pushed in [(behind.name, True), (conflicted.name, True), ("current", False), ("other", False)]:
        branches = git(remotes / ORG / f"{name}.git", "branch", "--list", branch)
        assert bool(branches) is pushed, name
    # What was pushed is the update: the new release, with the conflict left for a person.
    pushed = remotes / ORG / f"{conflicted.name}.git"
    assert "_commit: v1.1.0" in git(pushed, "show", f"{branch}:.copier-answers.yml").splitlines()
    assert "<<<<<<< before updating" in git(pushed, "show", f"{branch}:{PUBLISH}")

    # Again, with the clones and branches of the first run still there: nothing new, no failure.
    second = run(["bash", "-c", script], cwd=run_dir, env=env)
    assert len(log.read_text(encoding="utf-8").splitlines()) == len(prs)
    for member in (behind, conflicted):
        assert f"{ORG}/{member.name}: {branch} already pushed" in second.stdout
