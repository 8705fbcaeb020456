"""Rolling a template release out in rings: a release candidate reaches the canary repositories
(those whose renovate.json extends fleet/renovate-canary.json), the final tag reaches everyone.

Renovate itself (npm's, as in tests/test_renovate.py) looks the releases up with `--platform=local`,
offline: the template through a `git+file://` URL, the ring's preset over http from this
repository's fleet/ folder on 127.0.0.1 (a canary extends it from GitHub, docs/updating.md).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scenarios import FLEET_FIX_STEP, FLEET_RELEASES, make_template_repo, release_fleet_fix
from support.clients import RENOVATE_COPIER_UPDATE
from support.config import TEMPLATE_ROOT
from support.proc import commit_new_repo, git
from support.render import load_answers, render_project
from support.renovate import config_problems, package_files, run_renovate, schema_check
from support.updating import copier_cli
from support.urls import git_config_with_urls

OLD, FINAL = FLEET_RELEASES
CANDIDATE = f"{FINAL}rc1"
RING_PRESET = TEMPLATE_ROOT / "fleet" / "renovate-canary.json"


def test_ring_preset_offers_candidates_of_the_template_only() -> None:
    """The preset changes one thing, for the copier manager only: release candidates are offered."""
    assert schema_check(RING_PRESET) == (0, "ok -- validation done\n")
    preset = json.loads(RING_PRESET.read_text(encoding="utf-8"))
    assert preset["packageRules"] == [{"matchManagers": ["copier"], "ignoreUnstable": False}]
    assert set(preset) == {"$schema", "description", "packageRules"}


@pytest.fixture
def preset_server() -> Iterator[str]:
    """fleet/ over http on 127.0.0.1 (a free port); yields the ring preset's URL."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(RING_PRESET.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{RING_PRESET.name}"
    finally:
        server.shutdown()
        server.server_close()


def project_at(parent: Path, name: str, template: Path) -> Path:
    project = render_project(parent / name, {"project_name": name}, src=f"git+file://{template}", vcs_ref=OLD)
    return commit_new_repo(project, "New project from pypi-template")


def join_canary_ring(project: Path, preset: str) -> None:
    """The one line a canary repository adds to its renovate.json."""
    path = project / "renovate.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({"extends": [preset], **config}, indent=2) + "\n", encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "Join the canary ring of pypi-template")


def offered(project: Path, home: Path, gitconfig: Path) -> list[str]:
    """The template releases Renovate proposes to `project` (a fresh `home`: no cached tags)."""
    home.mkdir()
    git_config_with_urls(home / ".gitconfig", {}, base=gitconfig)
    records = run_renovate(project, home)
    assert not config_problems(records)
    (dep,) = package_files(records)["copier", ".copier-answers.yml"]
    return [update["newValue"] for update in dep["updates"]]


@pytest.mark.slow  # copies, an update and Renovate runs
@pytest.mark.client
def test_a_release_candidate_reaches_the_canary_ring_only(
    tmp_path: Path, run_gitconfig: Path, preset_server: str
) -> None:
    """v1.0.0, then v1.1.0rc1: the canary is offered the candidate, the others nothing; the
    candidate updates the canary with Renovate's copier command; tagging v1.1.0 on the same
    commit offers it to both (to the canary from the candidate)."""
    template = make_template_repo(tmp_path / "pypi-template", tag=OLD)
    release_fleet_fix(template)
    git(template, "commit", "--quiet", "--all", "--message", f"Template fix ({CANDIDATE})")
    git(template, "tag", CANDIDATE)
    canary = project_at(tmp_path, "acme-canary", template)
    ordinary = project_at(tmp_path, "acme-ordinary", template)
    join_canary_ring(canary, preset_server)

    assert offered(canary, tmp_path / "home-1", run_gitconfig) == [CANDIDATE]
    assert offered(ordinary, tmp_path / "home-2", run_gitconfig) == []

    # What Renovate's artifact step runs for that pull request: copier takes a candidate as --vcs-ref.
    proc = copier_cli(*RENOVATE_COPIER_UPDATE, "--vcs-ref", CANDIDATE, cwd=canary)
    assert proc.returncode == 0, proc.stderr
    assert load_answers(canary)["_commit"] == CANDIDATE
    assert f"- name: {FLEET_FIX_STEP}\n" in (canary / ".github" / "workflows" / "publish.yml").read_text(
        encoding="utf-8"
    )
    git(canary, "add", "--all")
    git(canary, "commit", "--quiet", "--message", f"Update pypi-template to {CANDIDATE}")

    git(template, "tag", FINAL, CANDIDATE)  # promotion: the final tag on the candidate's commit
    assert offered(canary, tmp_path / "home-3", run_gitconfig) == [FINAL]
    assert offered(ordinary, tmp_path / "home-4", run_gitconfig) == [FINAL]
