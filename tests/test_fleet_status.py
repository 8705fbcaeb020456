"""fleet/status.py: the fleet's inventory, and fleet/status.yml, the weekly workflow that publishes it.

One fleet of local repositories in every state the report knows, built once for the module: up to
date, behind by a patch, a minor and a major release, a `gh:` source, a path source, a `git describe`
commit, no answers file, an unreachable URL, a canary; open update branches made with Renovate's
exact copier command on the branch name Renovate gives it (clean, and with a .rej file), and by
fleet/rollout.sh --local (with conflict markers). The template is released_template() cloned, with
empty release commits after v1.1.0, so a copy at any later release holds v1.1.0's files: each member
is a real copy (scenarios.fleet_copy) with its answers file recording the release and source it is
meant to have.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.cli.main_command import main as check_jsonschema
from click.testing import CliRunner
from packaging.version import Version

from scenarios import FLEET_PIN, FLEET_RELEASES, USER_SHA, fleet_copy, released_template, set_answers
from support.clients import RENOVATE_COPIER_UPDATE
from support.config import TEMPLATE_ROOT, table
from support.proc import PYTHON, commit_new_repo, git, import_script, run, tool
from support.renovate import package_files, run_renovate
from support.updating import sync_check
from support.workflows import zizmor_pedantic

STATUS = TEMPLATE_ROOT / "fleet" / "status.py"
WORKFLOW = TEMPLATE_ROOT / "fleet" / "status.yml"
ROLLOUT = TEMPLATE_ROOT / "fleet" / "rollout.sh"
PUBLISH = ".github/workflows/publish.yml"
LATEST = "v2.1.1"
# After FLEET_RELEASES: empty release commits, one untagged commit, and a pre-release nobody is offered.
LATER_TAGS = ("v2.0.0", "v2.1.0", LATEST)
PRERELEASE = "v2.2.0rc1"

status = import_script(STATUS, "fleet_status")


def renovate_branch(src_path: str, new_major: int) -> str:
    """The branch Renovate names a copier update (default branchPrefix and branchTopic): its
    sanitizeDepName and cleanBranchName for a source of letters, digits, `/`, `:`, `.`, `+` and `-`;
    test_renovate_names_the_branch_so checks it against Renovate's own log."""
    name = re.sub(r"-+", "-", src_path.replace("/", "-").replace(":", "-"), count=1).lower()
    return re.sub(r"--+", "-", f"renovate/{name}-{new_major}.x")


@dataclass
class Fleet:
    template: Path
    root: Path
    repos: Path  # the --repos file
    canary: Path  # the --canary file
    describe: str  # the `git describe` _commit of one member

    def url(self, name: str) -> str:
        return f"file://{self.root / name}"

    def status(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run([PYTHON, STATUS, "--template", str(self.template), *args], cwd=self.root, env=env)


def member(fleet_root: Path, name: str, release: str, src: str) -> Path:
    """A copy recording `release` and `src`: v1.0.0's files, or v1.1.0's for any later release."""
    base = fleet_copy(
        "lib-setuptools", {}, release=FLEET_RELEASES[0] if release == FLEET_RELEASES[0] else FLEET_RELEASES[1]
    )
    project = shutil.copytree(base, fleet_root / name, symlinks=True)
    set_answers(project, _commit=release, _src_path=src)
    return project


def pin_bump(project: Path) -> None:
    """The line the release moves, bumped by the maintainers: the update conflicts there."""
    path = project / PUBLISH
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(table("actions")[FLEET_PIN]["sha"], USER_SHA), encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "Our own pin")


def commit_on_branch(project: Path, branch: str, *update: str) -> None:
    """`copier update ...` on a new `branch`, committed as a bot commits it (everything copier left)."""
    git(project, "switch", "--quiet", "--create", branch)
    run([tool("copier"), *update], cwd=project)
    git(project, "add", "--all", "--force")  # a .rej is committed too, even where git ignores it
    git(project, "commit", "--quiet", "--no-verify", "--message", f"Update {branch}")
    git(project, "switch", "--quiet", "main")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("fleet-status")
    template = root / "pypi-template"
    run(["git", "clone", "--quiet", released_template(), template])
    for tag in LATER_TAGS:
        git(template, "commit", "--quiet", "--allow-empty", "--message", f"Release {tag}")
        git(template, "tag", tag)
    git(template, "commit", "--quiet", "--allow-empty", "--message", "Work in progress")
    describe = git(template, "describe", "--tags", "HEAD")
    git(template, "commit", "--quiet", "--allow-empty", "--message", "Next release candidate")
    git(template, "tag", PRERELEASE)
    src = f"git+file://{template}"
    fleet_root = root / "fleet"
    current = member(fleet_root, "acme-current", LATEST, src)
    # The branch of a rollout merged long ago, which the host keeps: it records an earlier release.
    git(current, "switch", "--quiet", "--create", "pypi-template-v2.1.0")
    set_answers(current, _commit="v2.1.0")
    git(current, "switch", "--quiet", "main")
    member(fleet_root, "acme-canary", LATEST, src)
    member(fleet_root, "acme-patch", "v2.1.0", src)
    member(fleet_root, "acme-minor", "v2.0.0", src)
    member(fleet_root, "acme-major", "v1.0.0", src)
    member(fleet_root, "acme-shortcut", "v1.0.0", "gh:ORG/pypi-template")
    member(fleet_root, "acme-path", LATEST, "../pypi-template")
    member(fleet_root, "acme-describe", describe, src)
    other = fleet_root / "acme-no-answers"
    other.mkdir()
    (other / "README.md").write_text("Not generated from pypi-template.\n", encoding="utf-8")
    commit_new_repo(other, "something else")
    # Renovate's command, on Renovate's branch: a clean update, and one that leaves a .rej (copier#2386).
    renovate = [*RENOVATE_COPIER_UPDATE, "--vcs-ref", LATEST]
    commit_on_branch(member(fleet_root, "acme-renovate", "v1.0.0", src), renovate_branch(src, 2), *renovate)
    rejected = member(fleet_root, "acme-rej", "v1.0.0", src)
    pin_bump(rejected)
    commit_on_branch(rejected, renovate_branch(src, 2), *renovate, "--conflict", "rej")
    # fleet/rollout.sh --local, as docs/organisations.md runs it: the conflict committed with its markers.
    conflicted = member(fleet_root, "acme-conflict", "v1.0.0", src)
    pin_bump(conflicted)
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(PYTHON).parent), os.environ["PATH"]])}
    proc = subprocess.run(["bash", ROLLOUT, "--local", LATEST, "acme-conflict"], cwd=fleet_root, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr  # committed with its conflict: not a failure
    assert "check_template_sync.py fails" in proc.stdout, proc.stdout + proc.stderr
    names = sorted(p.name for p in fleet_root.iterdir())
    repos = root / "fleet.txt"
    lines = ["# the fleet", *(f"file://{fleet_root / n}" for n in names), "file:///nonexistent/acme-gone  # archived"]
    repos.write_text("\n".join(lines) + "\n", encoding="utf-8")
    canary = root / "canary.txt"
    canary.write_text(f"file://{fleet_root / 'acme-canary'}\n", encoding="utf-8")
    return Fleet(template, fleet_root, repos, canary, describe)


@pytest.fixture(scope="module")
def report(fleet: Fleet) -> dict[str, Any]:
    return json.loads(fleet.status("--repos", str(fleet.repos), "--canary", str(fleet.canary), "--json").stdout)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"].rsplit("/", 1)[-1]: r for r in report["repositories"]}


def codes(repo: dict[str, Any]) -> list[str]:
    return [p["code"] for p in repo["problems"]]


@pytest.mark.slow  # the fleet: three copier updates, fourteen repositories read
def test_releases_and_how_far_behind(fleet: Fleet, report: dict[str, Any]) -> None:
    assert (report["template"], report["latest"]) == (str(fleet.template), LATEST)  # not the pre-release
    repos = by_name(report)
    got = {name: (r["commit"], r["release"], r["behind"], r["ring"], r["state"]) for name, r in repos.items()}
    assert got == {
        "acme-current": (LATEST, LATEST, "up to date", "default", "ok"),
        "acme-canary": (LATEST, LATEST, "up to date", "canary", "ok"),
        "acme-patch": ("v2.1.0", "v2.1.0", "patch", "default", "ok"),
        "acme-minor": ("v2.0.0", "v2.0.0", "minor", "default", "ok"),
        "acme-major": ("v1.0.0", "v1.0.0", "major", "default", "ok"),
        "acme-shortcut": ("v1.0.0", "v1.0.0", "major", "default", "ok"),
        "acme-path": (LATEST, LATEST, "up to date", "default", "ok"),
        "acme-describe": (fleet.describe, LATEST, "up to date", "default", "ok"),
        "acme-no-answers": (None, None, None, "default", "missing"),
        "acme-gone": (None, None, None, "default", "unreachable"),
        "acme-renovate": ("v1.0.0", "v1.0.0", "major", "default", "ok"),
        "acme-rej": ("v1.0.0", "v1.0.0", "major", "default", "ok"),
        "acme-conflict": ("v1.0.0", "v1.0.0", "major", "default", "ok"),
    }
    assert {name: codes(r) for name, r in repos.items() if r["problems"]} == {
        "acme-shortcut": ["src-shortcut"],
        "acme-path": ["src-path"],
        "acme-describe": ["commit-describe"],
        "acme-no-answers": ["answers-missing"],
        "acme-gone": ["unreachable"],
    }
    assert fleet.describe.startswith(f"{LATEST}-1-g")
    assert repos["acme-gone"]["problems"][0]["message"].startswith("fatal: ")


@pytest.mark.slow
def test_update_branches_and_their_sync_check(fleet: Fleet, report: dict[str, Any], tmp_path: Path) -> None:
    repos = by_name(report)
    branch = renovate_branch(f"git+file://{fleet.template}", 2)
    assert {name: [(b["name"], b["commit"], b["check"]) for b in r["update_branches"]]
            for name, r in repos.items() if r["update_branches"]} == {
        "acme-renovate": [(branch, LATEST, "pass")],
        "acme-rej": [(branch, LATEST, "fail")],
        "acme-conflict": [(f"pypi-template-{LATEST}", LATEST, "fail")],
    }  # fmt: skip
    # The problems are the generated project's own check, run in a checkout of the branch.
    for name in ("acme-renovate", "acme-rej", "acme-conflict"):
        (found,) = repos[name]["update_branches"]
        checkout = tmp_path / name
        run(["git", "clone", "--quiet", "--branch", found["name"], fleet.url(name), checkout])
        check = sync_check(checkout)
        assert [f"error: {p}" for p in found["problems"]] == [
            line for line in check.stderr.splitlines() if line.startswith("error: ")
        ], name
        assert check.returncode == (0 if found["check"] == "pass" else 1)
    assert any(p.startswith(f"{PUBLISH}.rej: hunks copier could not apply") for p in
               repos["acme-rej"]["update_branches"][0]["problems"])  # fmt: skip
    assert any("conflict marker" in p for p in repos["acme-conflict"]["update_branches"][0]["problems"])


@pytest.mark.slow
def test_summary_per_release(report: dict[str, Any]) -> None:
    assert report["releases"] == [
        {"release": LATEST, "repositories": 4, "behind": 0, "failing_update_branches": 0},
        {"release": "v2.1.0", "repositories": 1, "behind": 1, "failing_update_branches": 0},
        {"release": "v2.0.0", "repositories": 1, "behind": 1, "failing_update_branches": 0},
        {"release": "v1.0.0", "repositories": 5, "behind": 5, "failing_update_branches": 2},
        {"release": None, "repositories": 2, "behind": 0, "failing_update_branches": 0},
    ]


@pytest.mark.slow
def test_markdown_rows_and_summary(fleet: Fleet, report: dict[str, Any]) -> None:
    text = fleet.status("--repos", str(fleet.repos), "--canary", str(fleet.canary), "--jobs", "1").stdout
    lines = text.splitlines()
    assert (
        lines[0] == f"## Fleet of {fleet.template.parent.name}/pypi-template: 13 repositories, latest release {LATEST}"
    )
    rows = {line.split(" | ")[0].removeprefix("| fleet/"): line for line in lines if line.startswith("| fleet/")}
    branch = renovate_branch(f"git+file://{fleet.template}", 2)
    assert rows["acme-canary"] == f"| fleet/acme-canary | canary | `{LATEST}` | up to date |  |  |  |"
    assert rows["acme-minor"] == "| fleet/acme-minor | default | `v2.0.0` | minor |  |  |  |"
    assert (
        rows["acme-renovate"]
        == f"| fleet/acme-renovate | default | `v1.0.0` | major | `{branch}` ({LATEST}) | pass |  |"
    )
    conflicts = len(by_name(report)["acme-conflict"]["update_branches"][0]["problems"])
    assert rows["acme-conflict"] == (
        f"| fleet/acme-conflict | default | `v1.0.0` | major | `pypi-template-{LATEST}` ({LATEST}) "
        f"| fail: {conflicts} problem(s) |  |"
    )
    assert rows["acme-shortcut"] == (
        "| fleet/acme-shortcut | default | `v1.0.0` | major |  |  "
        "| _src_path `gh:ORG/pypi-template` is a shortcut Renovate cannot resolve |"
    )
    assert lines[-5:] == [
        f"- {LATEST}: 4 repositories, 0 behind, 0 failing update branches",
        "- v2.1.0: 1 repository, 1 behind, 0 failing update branches",
        "- v2.0.0: 1 repository, 1 behind, 0 failing update branches",
        "- v1.0.0: 5 repositories, 5 behind, 2 failing update branches",
        "- no release: 2 repositories, 0 behind, 0 failing update branches",
    ]
    assert len(rows) == 12  # acme-gone is nonexistent/acme-gone


# A stand-in for `gh repo list OWNER --json ...` over an organisation of four repositories: two of
# the fleet (one in the canary ring), an archived one with the topic, one without it. As gh does,
# --topic, --no-archived and --archived go through GitHub's search, which silently stops at its cap
# (1000; here FAKE_GH_SEARCH_CAP); the plain listing stops at --limit.
FAKE_GH = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
assert args[:3] == ["repo", "list", "acme-corp"], args
def option(name):
    return args[args.index(name) + 1] if name in args else None
root = os.environ["FAKE_GH_FLEET"]
org = [("acme-canary", ["pypi-template", "pypi-template-canary"], False), ("acme-current", ["pypi-template"], True),
       ("acme-minor", ["pypi-template"], False), ("acme-no-answers", [], False)]
searched = any(flag in args for flag in ("--topic", "--no-archived", "--archived"))
if searched:
    org = [(name, topics, archived) for name, topics, archived in org
           if (option("--topic") is None or option("--topic") in topics)
           and not ("--no-archived" in args and archived) and not ("--archived" in args and not archived)]
org = org[: min(int(option("--limit") or 30), int(os.environ["FAKE_GH_SEARCH_CAP"]) if searched else 10**9)]
print(json.dumps([{"url": f"file://{root}/{name}", "defaultBranchRef": {"name": "main"}, "isArchived": archived,
                   "repositoryTopics": [{"name": t} for t in topics]} for name, topics, archived in org]))
"""


@pytest.mark.slow
def test_github_listing_and_ring_topic(fleet: Fleet, tmp_path: Path) -> None:
    """The organisation's repositories with the topic, archived ones left out, however many there
    are: a search (gh's --topic) would have stopped at its cap, here one repository."""
    (tmp_path / "gh").write_text(FAKE_GH, encoding="utf-8")
    (tmp_path / "gh").chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "FAKE_GH_FLEET": str(fleet.root),
           "GITHUB_REPOSITORY_OWNER": "acme-corp", "FAKE_GH_SEARCH_CAP": "1"}  # fmt: skip
    got = json.loads(fleet.status("--json", env=env).stdout)  # the owner as the workflow gives it
    assert [(r["name"], r["ring"], r["behind"]) for r in got["repositories"]] == [
        ("fleet/acme-canary", "canary", "up to date"),
        ("fleet/acme-minor", "default", "minor"),
    ]


@pytest.mark.slow
def test_a_repository_extending_the_canary_preset_is_in_the_canary_ring(fleet: Fleet, tmp_path: Path) -> None:
    """The ring a repository joins itself (docs/updating.md): its renovate.json extends the preset."""
    project = shutil.copytree(fleet.root / "acme-minor", tmp_path / "acme-minor", symlinks=True)
    config = json.loads((project / "renovate.json").read_text(encoding="utf-8"))
    repos = tmp_path / "repos.txt"
    repos.write_text(f"file://{project}\n", encoding="utf-8")
    before = json.loads(fleet.status("--repos", str(repos), "--json").stdout)["repositories"]
    assert [r["ring"] for r in before] == ["default"]
    # Renovate reads the preset with or without `.json`, and at a tag after `#`.
    for preset in ("renovate-canary.json", "renovate-canary", "renovate-canary#v2.1.0"):
        extends = [*config.get("extends", []), f"github>acme-corp/pypi-template//fleet/{preset}"]
        (project / "renovate.json").write_text(json.dumps({**config, "extends": extends}) + "\n", encoding="utf-8")
        git(project, "commit", "--quiet", "--all", "--message", f"Join the canary ring ({preset})")
        after = json.loads(fleet.status("--repos", str(repos), "--json").stdout)["repositories"]
        assert [(r["ring"], r["behind"]) for r in after] == [("canary", "minor")], preset
    # Renovate reads a renovate.jsonc (JSON with comments) too.
    git(project, "mv", "renovate.json", "renovate.jsonc")
    jsonc = project / "renovate.jsonc"
    jsonc.write_text("// the canary ring\n" + jsonc.read_text(encoding="utf-8"), encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "Comments in the configuration")
    after = json.loads(fleet.status("--repos", str(repos), "--json").stdout)["repositories"]
    assert [(r["ring"], r["behind"]) for r in after] == [("canary", "minor")]


@pytest.mark.slow
def test_a_canary_url_matches_however_it_is_spelled(fleet: Fleet, tmp_path: Path) -> None:
    """gh lists `https://github.com/OWNER/NAME`, a canary file may say `.../NAME.git` (or the reverse);
    an entry that matches no repository is named, not silently ignored."""
    repos, canary = tmp_path / "repos.txt", tmp_path / "canary.txt"
    repos.write_text("".join(f"{fleet.url(name)}\n" for name in ("acme-canary", "acme-current")), encoding="utf-8")
    canary.write_text(f"{fleet.url('acme-canary')}.git/\nhttps://example.invalid/acme-gone\n", encoding="utf-8")
    proc = fleet.status("--repos", str(repos), "--canary", str(canary), "--json")
    rings = {r["name"].rsplit("/", 1)[-1]: r["ring"] for r in json.loads(proc.stdout)["repositories"]}
    assert rings == {"acme-canary": "canary", "acme-current": "default"}
    assert (
        proc.stderr
        == f"status.py: https://example.invalid/acme-gone (in {canary}) is none of the fleet's repositories\n"
    )


@pytest.mark.slow
def test_a_commit_hash_in_digits_alone_is_no_release(fleet: Fleet, tmp_path: Path) -> None:
    """copier records an abbreviated hash when no tag names the commit it copied; in digits alone
    (7878087) it parses as a version, which must not count as a release, ahead of every tag."""
    project = shutil.copytree(fleet.root / "acme-minor", tmp_path / "acme-minor", symlinks=True)
    set_answers(project, _commit="'7878087'")
    repos = tmp_path / "repos.txt"
    repos.write_text(f"file://{project}\n", encoding="utf-8")
    (repo,) = json.loads(fleet.status("--repos", str(repos), "--json").stdout)["repositories"]
    assert (repo["commit"], repo["release"], repo["behind"], codes(repo)) == (
        "7878087",
        None,
        None,
        ["commit-not-release"],
    )


@pytest.mark.client
def test_renovate_names_the_branch_so(fleet: Fleet, tmp_path: Path) -> None:
    """Renovate's own dry run on a member at v1.0.0 proposes LATEST on the branch the fleet uses,
    and v1.1.0, the latest of its major, on a second branch (separateMajorMinor)."""
    home = tmp_path / "home"
    home.mkdir()
    project = shutil.copytree(fleet.root / "acme-major", tmp_path / "acme-major", symlinks=True)
    ((dep,),) = package_files(run_renovate(project, home)).values()
    src = f"git+file://{fleet.template}"
    assert sorted((u["newValue"], u["branchName"]) for u in dep["updates"]) == [
        (FLEET_RELEASES[1], renovate_branch(src, 1)),
        (LATEST, renovate_branch(src, 2)),
    ]


# --- The parts, without a fleet ------------------------------------------------------------------

TAGS = ["v1.0.0", "v1.0.1", "v1.1.0", "v1.10.0", "v1.9.0", "v2.0.0rc1", "v2.0.0.dev1", "v1.10.0.post1", "v1.2",
        "1!0.1", "v1.10.0+fork.2", "v1.10.0+fork.10", "v1.10.0a1", "v1.10.0b2", "v1.10.0rc1", "v3.0.dev0"]  # fmt: skip


def test_versions_sort_as_copier_sorts_them() -> None:
    """PEP 440 order, by the standard library alone: the same as packaging's, which copier uses."""
    assert sorted(TAGS, key=lambda t: status.parse_version(t)) == sorted(TAGS, key=Version)
    assert [status.parse_version(t).is_prerelease for t in TAGS] == [Version(t).is_prerelease for t in TAGS]
    assert status.latest_release(TAGS) == "1!0.1"
    assert status.latest_release([t for t in TAGS if "!" not in t]) == "v1.10.0.post1"
    assert status.latest_release(["v2.0.0rc1", "latest"]) is None
    assert status.parse_version("v1.0.0-3-gabc1234") is None


@pytest.mark.parametrize(
    ("listed", "written", "same"),
    [("https://github.com/Acme-Corp/Tools", "HTTPS://github.com/acme-corp/tools.git/", True),
     ("git@github.com:acme/tools.git", "git@github.com:acme/tools", True),
     ("https://git.example.org/Acme/Tools", "https://GIT.example.org/Acme/Tools.git", True),
     ("https://git.example.org/Acme/Tools", "https://git.example.org/acme/tools", False),
     ("/srv/git/Tools", "/srv/git/tools", False)],
)  # fmt: skip
def test_canary_urls_match_as_hosts_compare_them(listed: str, written: str, same: bool) -> None:
    """Scheme and host in any case; a path in its own case, but GitHub's in any (its names ignore case)."""
    assert (status.same_url(listed) == status.same_url(written)) is same


@pytest.mark.parametrize(
    ("current", "latest", "expected"),
    [("v1.0.0", "v1.0.0", "up to date"), ("v1.0.0", "v1.0.1", "patch"), ("v1.0.1", "v1.1.0", "minor"),
     ("v1.9.0", "v1.10.0", "minor"), ("v1.10.0", "v2.0.0", "major"), ("v1.3.0", "v1.3.0.post1", "patch"),
     ("v1.2", "v1.2.0", "up to date"), ("v2.0.0rc1", "v1.10.0", "ahead"), ("v2.0.0rc1", "v2.0.0", "patch")],
)  # fmt: skip
def test_how_far_behind(current: str, latest: str, expected: str) -> None:
    assert status.behind(current, latest) == expected


def test_help_says_how_to_run_it() -> None:
    text = run([PYTHON, STATUS, "--help"]).stdout
    assert "uv run fleet/status.py" in text
    for option in ("--repos", "--owner", "--json", "--canary", "--template"):
        assert option in text, option
    proc = subprocess.run([PYTHON, STATUS], capture_output=True, text=True, check=False,
                          env={**os.environ, "GITHUB_REPOSITORY_OWNER": ""})  # fmt: skip
    assert proc.returncode == 2
    assert "give --repos FILE or --owner OWNER" in proc.stderr


def test_a_missing_list_or_gh_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    template = tmp_path / "template"
    run(["git", "init", "--quiet", template])
    missing = tmp_path / "fleet.txt"
    proc = subprocess.run([PYTHON, STATUS, "--template", template, "--repos", missing],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert (proc.returncode, proc.stderr) == (1, f"status.py: cannot read {missing}: No such file or directory\n")
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "git")
    proc = subprocess.run([PYTHON, STATUS, "--template", template, "--owner", "acme-corp"], capture_output=True,
                          text=True, check=False, env={**os.environ, "PATH": str(only_git)})  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("status.py: --owner lists repositories with the GitHub CLI, gh, which is not"), (
        proc.stderr
    )


def test_json_keys_are_documented() -> None:
    """Every key the JSON document has is named in the docstring other tools read."""
    doc = status.__doc__
    repo = status.Repository("o/n", "file:///o/n")
    keys = {"template", "latest", "repositories", "releases", *vars(repo), "release", "behind",
            "failing_update_branches", "code", "message", "name", "commit", "check", "problems"}  # fmt: skip
    assert not [key for key in keys if not re.search(rf"\b{key}\b", doc)]


# --- The weekly workflow (fleet/status.yml) ------------------------------------------------------


def test_status_workflow_passes_zizmor_pedantic_and_the_schema() -> None:
    proc = zizmor_pedantic(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == [], proc.stdout
    result = CliRunner().invoke(check_jsonschema, ["--builtin-schema", "vendor.github-workflows", str(WORKFLOW)])
    assert result.exit_code == 0, result.output


def test_status_workflow_is_weekly_scoped_and_pinned() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (cron,) = workflow[True]["schedule"]  # `on`
    assert cron["cron"].split()[2:] == ["*", "*", "1"]  # weekly
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    checkout, report, issue = job["steps"]
    pin = table("actions")["checkout"]
    assert checkout["uses"] == f"{pin['repo']}@{pin['sha']}"
    assert f"@{pin['sha']} # {pin['version']}" in WORKFLOW.read_text(encoding="utf-8")
    assert checkout["with"]["persist-credentials"] is False
    for step in (report, issue):
        assert "${{" not in step["run"]
    assert "python3 fleet/status.py > fleet-status.md" in report["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in report["run"]
    for command in ("gh issue edit", "gh issue create", "gh issue pin"):
        assert command in issue["run"], command


# A stand-in for gh in the issue step: no issue open yet; `issue create` keeps the body it was given.
ISSUE_GH = r"""#!/usr/bin/env python3
import os, shutil, sys
args = sys.argv[1:]
if args[:2] == ["issue", "create"]:
    shutil.copy(args[args.index("--body-file") + 1], os.environ["ISSUE_BODY"])
    print("https://github.invalid/acme-corp/pypi-template/issues/1")
"""


@pytest.mark.parametrize("repositories", [8, 1200])
def test_the_issue_holds_the_report_or_its_totals_and_a_link(tmp_path: Path, repositories: int) -> None:
    """The issue step, as written, under GitHub's 65,536-character limit on an issue's body: a fleet
    of 1200 repositories gets the heading, the totals and a link to the run's summary instead."""
    lines = [
        f"## Fleet of acme-corp/pypi-template: {repositories} repositories, latest release v2.1.1",
        "",
        "| Repository | Ring | Release | Behind | Update branch | Branch check | Problems |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| acme-corp/acme-{n:04d} | default | `v2.1.0` | patch |  |  |  |" for n in range(repositories)]
    lines += ["", f"- v2.1.0: {repositories} repositories, {repositories} behind, 0 failing update branches"]
    report = "\n".join(lines) + "\n"
    (tmp_path / "fleet-status.md").write_text(report, encoding="utf-8")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gh").write_text(ISSUE_GH, encoding="utf-8")
    (tmp_path / "bin" / "gh").chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "ISSUE_BODY": str(tmp_path / "body.md"), "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_REPOSITORY": "acme-corp/pypi-template", "GITHUB_RUN_ID": "42"}  # fmt: skip
    (step,) = [s for s in yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["status"]["steps"]
               if "gh issue create" in s.get("run", "")]  # fmt: skip
    run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env)
    body = (tmp_path / "body.md").read_text(encoding="utf-8")
    assert len(body) <= 65536
    if len(report) <= 65000:
        assert body == report
    else:
        link = "see the summary of https://github.com/acme-corp/pypi-template/actions/runs/42"
        assert body.splitlines() == [lines[0], "", f"The table is too long for an issue: {link}", "", lines[-1]]


# --- docs/organisations.md, "Seeing the fleet": a real run's output ------------------------------

ORGANISATIONS = TEMPLATE_ROOT / "docs" / "organisations.md"
DOCS_MEMBERS = ("acme-canary", "acme-conflict", "acme-current", "acme-minor", "acme-no-answers", "acme-patch",
                "acme-renovate", "acme-shortcut")  # fmt: skip


def documented_output() -> str:
    section = ORGANISATIONS.read_text(encoding="utf-8").split("\n## Seeing the fleet\n", 1)[1]
    return re.findall(r"^```markdown\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)[0]


@pytest.mark.slow
def test_docs_show_a_real_run(fleet: Fleet, tmp_path: Path) -> None:
    """The page's output is this fleet's, with its local names in the organisation's form."""
    listing = tmp_path / "fleet.txt"
    listing.write_text("".join(f"{fleet.url(name)}\n" for name in DOCS_MEMBERS), encoding="utf-8")
    canary = tmp_path / "canary.txt"
    canary.write_text(f"{fleet.url('acme-canary')}\n", encoding="utf-8")
    text = fleet.status("--repos", str(listing), "--canary", str(canary)).stdout
    src = f"git+file://{fleet.template}"
    for local, shown in {
        renovate_branch(src, 2): renovate_branch("https://github.com/acme-corp/pypi-template.git", 2),
        f"Fleet of {fleet.template.parent.name}/pypi-template": "Fleet of acme-corp/pypi-template",
        "| fleet/": "| acme-corp/",
    }.items():
        text = text.replace(local, shown)
    assert documented_output() == text, text
