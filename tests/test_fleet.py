"""A fleet: ten projects generated at v1.0.0, edited by their maintainers, updated to v1.1.0 with
the exact command Renovate's copier manager runs.

The template is a throwaway tagged copy of this one (scenarios.released_template), reached through a
`git+file://` URL as Renovate reaches it offline; v1.1.0 adds a step to publish.yml and moves an
action pin. For every project: the fix arrived or the conflict is visible, no user edit is lost,
no answer changed, and check_template_sync.py fails exactly on the conflicted ones. Then the
organisation-wide Renovate workflow, fleet/renovate.yml (the rollout without Renovate, fleet/rollout.sh:
tests/test_rollout.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.cli.main_command import main as check_jsonschema
from click.testing import CliRunner

from scenarios import (
    CI,
    DEPENDENCY,
    EDITS,
    FLEET,
    FLEET_FIX_STEP,
    FLEET_NEW_PIN,
    FLEET_PIN,
    FLEET_RELEASES,
    PUBLISH,
    README_LINE,
    USER_SHA,
    Member,
    fleet_copy,
    maintained_copy,
    released_template,
)
from support.clients import RENOVATE_COPIER_UPDATE, RENOVATE_VERSION
from support.config import FLEET_WORKFLOW, table
from support.proc import git, tool
from support.render import load_answers, project_files
from support.updating import sync_check
from support.workflows import zizmor_pedantic

OLD, NEW = FLEET_RELEASES
RENOVATE_COMMAND = [*RENOVATE_COPIER_UPDATE, "--vcs-ref", NEW]
MARKERS = ("<<<<<<< before updating", "=======", ">>>>>>> after updating")


def test_the_fleet_covers_what_projects_do() -> None:
    assert len(FLEET) >= 10
    assert {m.answers.get("project_kind", "library") for m in FLEET} == {"library", "meta-package"}
    assert len({m.answers.get("build_backend", "setuptools") for m in FLEET}) >= 4
    assert {m.answers.get("use_testpypi", True) for m in FLEET} == {True, False}
    assert {edit for m in FLEET for edit in m.edits} == set(EDITS)
    assert any(m.conflicts for m in FLEET)
    assert not all(m.conflicts for m in FLEET)


# --- The update, project by project ------------------------------------------------------------


def answers_without_commit(project: Path) -> dict[str, Any]:
    return {key: value for key, value in load_answers(project).items() if key != "_commit"}


@pytest.mark.slow  # ten copier copies and updates: about 25 s of CPU
@pytest.mark.parametrize("member", FLEET, ids=[m.name for m in FLEET])
def test_renovate_command_updates_each_project(member: Member, tmp_path: Path) -> None:
    project = maintained_copy(member, tmp_path / member.name)
    assert load_answers(project)["_src_path"] == f"git+file://{released_template()}"
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
        assert not [
            name for name, data in after.items() if set(MARKERS) & set(data.decode(errors="replace").splitlines())
        ]
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
        lines = re.findall(rf"^error: {re.escape(PUBLISH)}:(\d+): conflict marker", check.stderr, re.MULTILINE)
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
        assert pyproject["tool"]["pylint"]["format"] == {"max-line-length": 120}
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
    proc = zizmor_pedantic(FLEET_WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == [], proc.stdout + proc.stderr
    # The one silenced finding, on its line with the reason (docs/automatic-updates.md says why).
    text = FLEET_WORKFLOW.read_text(encoding="utf-8")
    assert re.findall(r"# zizmor: ignore\[([\w-]+)\] (.+)", text) == [("github-app", "Renovate finds them by topic")]
    result = CliRunner().invoke(check_jsonschema, ["--builtin-schema", "vendor.github-workflows", str(FLEET_WORKFLOW)])
    assert result.exit_code == 0, result.output


def test_fleet_workflow_is_pinned_scoped_and_runs_the_tested_renovate() -> None:
    workflow = yaml.safe_load(FLEET_WORKFLOW.read_text(encoding="utf-8"))
    (cron,) = workflow[True].pop("schedule")  # `on`: on working days, and by hand
    assert cron["cron"].split()[2:] == ["*", "*", "1-5"]
    assert workflow[True] == {"workflow_dispatch": None}
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {}
    assert job["environment"] == "renovate"
    assert job["name"]
    assert isinstance(job["timeout-minutes"], int)
    token, renovate = job["steps"]
    for step in (token, renovate):
        assert step["name"], step
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step
    text = FLEET_WORKFLOW.read_text(encoding="utf-8")
    assert len(re.findall(r"uses: \S+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", text, re.MULTILINE)) == 2
    assert token["uses"].startswith("actions/create-github-app-token@")
    assert token["with"]["private-key"] == "${{ secrets.RENOVATE_APP_PRIVATE_KEY }}"
    assert {k for k in token["with"] if k.startswith("permission-")} >= {
        "permission-workflows",
        "permission-pull-requests",
    }
    assert renovate["with"]["token"] == "${{ steps.app-token.outputs.token }}"
    # The Renovate the tests run (tests/test_renovate.py): a new one is tested before it is rolled out.
    assert renovate["with"]["renovate-version"] == RENOVATE_VERSION
    assert renovate["env"]["RENOVATE_ALLOW_SCRIPTS"] == "false"
    assert renovate["env"]["RENOVATE_AUTODISCOVER_TOPICS"] == "pypi-template"
