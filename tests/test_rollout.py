"""fleet/rollout.sh, the rollout without Renovate (docs/updating.md, docs/organisations.md), of a
later release that one project refuses: on bare repositories with a stand-in gh, and on local
checkouts (--local), each run more than once. The projects are the fleet's (scenarios.FLEET).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scenarios import (
    FLEET,
    PUBLISH,
    README_LINE,
    Member,
    maintained_copy,
    pin_bump,
    readme,
    released_template,
    set_answers,
)
from support.config import TEMPLATE_ROOT
from support.git_http import git_http_server
from support.proc import PYTHON, commit_new_repo, git, run
from support.render import load_answers
from support.urls import git_config_with_urls

ROLLOUT = TEMPLATE_ROOT / "fleet" / "rollout.sh"
ORG = "acme-corp"
# A release after the fleet's two that no longer offers Python 3.10: projects that chose it refuse it.
LATER, DROPPED_PYTHON = "v1.2.0", "3.10"
BRANCH = f"pypi-template-{LATER}"
PR_URL = f"https://github.invalid/{ORG}/{{}}/pull/{{}}".format  # the stand-in gh's pull requests
# A stand-in for the GitHub CLI, for what the script calls: `repo list` (a search, as gh makes with
# --no-archived, silently stops at its cap: 1000, here FAKE_GH_SEARCH_CAP) and `repo clone` from local
# bare repositories (or, with FAKE_GH_URL, over HTTP with gh as git's credential helper for the clone
# alone, as gh does), `auth git-credential` answering with GH_TOKEN, `pr create` recorded as a JSON
# line, `pr view` answering from those lines, `pr ready` setting their draft flag.
FAKE_GH = r"""#!/usr/bin/env python3
import json, os, subprocess, sys
args, remotes, log = sys.argv[1:], os.environ["FAKE_GH_REMOTES"], os.environ["FAKE_GH_LOG"]
def option(name):
    return args[args.index(name) + 1]
def prs():
    return [json.loads(line) for line in open(log)] if os.path.exists(log) else []
if args[:2] == ["repo", "list"]:  # what gh prints through --jq: the names (none is archived here)
    names = [f"{args[2]}/{n.removesuffix('.git')}" for n in sorted(os.listdir(os.path.join(remotes, args[2])))]
    searched = any(flag in args for flag in ("--topic", "--no-archived", "--archived"))  # GitHub's search
    print("\n".join(names[: int(os.environ["FAKE_GH_SEARCH_CAP"]) if searched else int(option("--limit"))]))
elif args[:2] == ["repo", "clone"] and args[4] == "--" and os.environ.get("FAKE_GH_URL"):
    helper = ["-c", "credential.helper=", "-c", "credential.helper=!gh auth git-credential"]
    url = f"{os.environ['FAKE_GH_URL']}/{args[2]}.git"
    sys.exit(subprocess.call(["git", *helper, "clone", *args[5:], url, args[3]]))
elif args[:2] == ["repo", "clone"] and args[4] == "--":
    sys.exit(subprocess.call(["git", "clone", *args[5:], os.path.join(remotes, args[2] + ".git"), args[3]]))
elif args == ["auth", "git-credential", "get"]:
    sys.stdin.read()
    print(f"username=x-access-token\npassword={os.environ['GH_TOKEN']}")
elif args[:2] == ["auth", "git-credential"]:
    sys.stdin.read()  # store, erase: nothing kept
elif args[:2] == ["pr", "view"]:
    found = [pr for pr in prs() if pr["repo"] == option("--repo") and pr["head"] == args[2]]
    if not found:
        sys.exit(f"no pull requests found for branch {args[2]!r}")
    print(found[-1].get("state", "OPEN"))  # what `--json state --jq .state` prints
elif args[:2] == ["pr", "ready"]:  # ready for review, or back to a draft with --undo
    head = next(a for a in args[2:] if not a.startswith("--") and a != option("--repo"))
    known = prs()
    [pr for pr in known if pr["repo"] == option("--repo") and pr["head"] == head][-1]["draft"] = "--undo" in args
    with open(log, "w") as fh:
        fh.writelines(json.dumps(pr) + "\n" for pr in known)
elif args[:2] == ["pr", "create"]:
    pr = {"repo": option("--repo"), "head": option("--head"), "base": option("--base"), "draft": "--draft" in args}
    with open(log, "a") as fh:
        fh.write(json.dumps(pr) + "\n")
    print(f"https://github.invalid/{pr['repo']}/pull/{len(prs())}")
else:
    sys.exit(f"fake gh: unsupported: {args}")
"""
REFUSED = Member("lib-310", {"python_min": DROPPED_PYTHON}, ())
BEHIND = FLEET[0]  # lib-setuptools: updates cleanly
EDITED = FLEET[1]  # lib-hatchling: updates cleanly
CONFLICTED = next(m for m in FLEET if m.conflicts)  # lib-poetry-core


@dataclass
class Rollout:
    env: dict[str, str]
    cwd: Path
    remotes: Path
    log: Path

    def run(self, *args: str, script: Path = ROLLOUT, **env: str) -> tuple[int, dict[str, str]]:
        """The script's exit status and its report: each repository's outcome (`env`: more variables)."""
        proc = subprocess.run(
            ["bash", script, *args], cwd=self.cwd, env=self.env | env, capture_output=True, text=True, check=False
        )
        summary, *lines = proc.stdout.splitlines()
        report = dict(line.strip().split(": ", 1) for line in lines)
        assert summary.startswith(f"Rollout of pypi-template {LATER}: {len(report)} repositories, "), (
            proc.stdout + proc.stderr
        )
        assert summary.endswith(f", {sum(o.startswith('FAILED') for o in report.values())} failed"), proc.stdout
        return proc.returncode, report

    def prs(self) -> list[dict[str, Any]]:
        return (
            [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
            if self.log.exists()
            else []
        )

    def remote(self, name: str) -> Path:
        return self.remotes / ORG / f"{name}.git"


def later_release(tmp_path: Path) -> Path:
    """The fleet's template plus LATER, which drops DROPPED_PYTHON from python_versions."""
    repo = tmp_path / "pypi-template"
    run(["git", "clone", "--quiet", released_template(), repo])
    config = repo / "includes" / "tables" / "python_versions.yml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f'    "{DROPPED_PYTHON}": ')]
    assert len(kept) == len(lines) - 1
    config.write_text("".join(kept), encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", f"Drop Python {DROPPED_PYTHON}")
    git(repo, "tag", LATER)
    return repo


@pytest.fixture
def rollout(tmp_path: Path, run_gitconfig: Path) -> Rollout:
    """The script's environment: the stand-in gh first on PATH, and git serving the fleet's template
    URL from a copy that also has LATER (the projects record the shared template's URL)."""
    config = tmp_path / "gitconfig"
    git_config_with_urls(config, {f"file://{released_template()}": later_release(tmp_path)}, base=run_gitconfig)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH, encoding="utf-8")
    (bin_dir / "gh").chmod(0o755)
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), str(Path(PYTHON).parent), os.environ["PATH"]]),
           "GIT_CONFIG_GLOBAL": str(config), "COPIER_CACHE_DIR": str(tmp_path / "copier-cache"),
           "FAKE_GH_REMOTES": str(tmp_path / "remotes"), "FAKE_GH_LOG": str(tmp_path / "prs.jsonl"),
           "FAKE_GH_SEARCH_CAP": "2"}  # fmt: skip
    env.pop("GITHUB_ACTIONS", None)
    (tmp_path / "laptop").mkdir()
    return Rollout(env, tmp_path / "laptop", tmp_path / "remotes", tmp_path / "prs.jsonl")


def bare_remote(remotes: Path, name: str, project: Path) -> Path:
    remote = remotes / ORG / f"{name}.git"
    run(["git", "clone", "--quiet", "--bare", project, remote])
    return remote


def push_commit(remote: Path, branch: str, tmp_path: Path, edit: Callable[[Path], None] = readme) -> None:
    """Someone's commit on `branch` of `remote`: by default, a line added to the README."""
    clone = Path(tempfile.mkdtemp(prefix=f"someone-{remote.name}-", dir=tmp_path))
    run(["git", "clone", "--quiet", "--branch", branch, remote, clone])
    edit(clone)
    git(clone, "commit", "--quiet", "--all", "--message", "Someone's work")
    git(clone, "push", "--quiet", "origin", branch)


def set_pull_request(rollout: Rollout, member: Member, **fields: Any) -> None:
    """Someone changes `member`'s pull request on the stand-in GitHub: `draft`, or `state` (CLOSED)."""
    prs = [{**pr, **fields} if pr["repo"] == f"{ORG}/{member.name}" else pr for pr in rollout.prs()]
    rollout.log.write_text("".join(json.dumps(pr) + "\n" for pr in prs), encoding="utf-8")


def refs(remote: Path) -> str:
    return git(remote, "show-ref")


def refusal(report: dict[str, str]) -> str:
    """The outcome of the repository whose update is refused, taken out of `report`."""
    outcome = report.pop(f"{ORG}/{REFUSED.name}", "")
    assert outcome.startswith("FAILED: copier update: "), outcome
    assert "'python_min'" in outcome, outcome
    return outcome


@pytest.mark.slow  # four copier updates (one refused), then one refused, then one of each
def test_rollout_goes_on_past_a_refused_repository_and_is_safe_to_rerun(rollout: Rollout, tmp_path: Path) -> None:
    for member in (REFUSED, BEHIND, EDITED, CONFLICTED):
        bare_remote(rollout.remotes, member.name, maintained_copy(member, tmp_path / "work" / member.name))
    other = tmp_path / "work" / "other"
    other.mkdir()
    (other / "README.md").write_text("Not generated from pypi-template.\n", encoding="utf-8")
    bare_remote(rollout.remotes, "other", commit_new_repo(other, "something else"))

    # 1. The refused repository is listed first; every repository after it still gets its pull request.
    code, report = rollout.run(LATER, ORG)
    refusal(report)
    assert (code, report) == (1, {
        f"{ORG}/{EDITED.name}": f"pull request opened: {PR_URL(EDITED.name, 1)}",
        f"{ORG}/{CONFLICTED.name}": "draft pull request opened, check_template_sync.py fails "
                                    "(resolve it on the branch): "
                                    f"{PR_URL(CONFLICTED.name, 2)}",
        f"{ORG}/{BEHIND.name}": f"pull request opened: {PR_URL(BEHIND.name, 3)}",
        f"{ORG}/other": "skipped: not generated from pypi-template",
    })  # fmt: skip
    assert [(pr["repo"], pr["head"], pr["base"], pr["draft"]) for pr in rollout.prs()] == [
        (f"{ORG}/{EDITED.name}", BRANCH, "main", False),
        (f"{ORG}/{CONFLICTED.name}", BRANCH, "main", True),  # cannot be merged by accident
        (f"{ORG}/{BEHIND.name}", BRANCH, "main", False),
    ]
    # What was pushed is the update: the new release, with the conflict left for a person.
    for member in (EDITED, CONFLICTED, BEHIND):
        answers = git(rollout.remote(member.name), "show", f"{BRANCH}:.copier-answers.yml").splitlines()
        assert f"_commit: {LATER}" in answers, member.name
    assert "<<<<<<< before updating" in git(rollout.remote(CONFLICTED.name), "show", f"{BRANCH}:{PUBLISH}")
    assert git(rollout.remote(REFUSED.name), "branch", "--list", BRANCH) == ""
    assert git(rollout.remote("other"), "branch", "--list", BRANCH) == ""

    # 2. BEHIND's pull request is merged, someone resolves CONFLICTED's on its branch; EDITED waits.
    git(rollout.remote(BEHIND.name), "update-ref", "refs/heads/main", f"refs/heads/{BRANCH}")
    push_commit(rollout.remote(CONFLICTED.name), BRANCH, tmp_path)
    before = {name: refs(rollout.remote(name)) for name in (REFUSED.name, BEHIND.name, EDITED.name, CONFLICTED.name)}
    code, report = rollout.run(LATER, ORG)
    refusal(report)
    assert (code, report) == (1, {
        f"{ORG}/{EDITED.name}": f"up to date: {BRANCH} already holds this update",
        f"{ORG}/{CONFLICTED.name}": f"left alone: {BRANCH} has commits made by hand",
        f"{ORG}/{BEHIND.name}": f"up to date: already on {LATER}",
        f"{ORG}/other": "skipped: not generated from pypi-template",
    })  # fmt: skip
    assert {name: refs(rollout.remote(name)) for name in before} == before  # nothing pushed
    assert len(rollout.prs()) == 3

    # 3. EDITED's default branch moves on: its branch is rebuilt on it and pushed again, into the
    # same pull request, made ready for review (someone had made it a draft). Only the repositories
    # named (a wave).
    set_pull_request(rollout, EDITED, draft=True)
    push_commit(rollout.remote(EDITED.name), "main", tmp_path)
    code, report = rollout.run(LATER, ORG, REFUSED.name, EDITED.name)
    refusal(report)
    assert (code, report) == (1, {f"{ORG}/{EDITED.name}": f"pull request updated: {BRANCH} rebuilt and pushed"})
    remote = rollout.remote(EDITED.name)
    assert git(remote, "rev-parse", f"{BRANCH}^") == git(remote, "rev-parse", "main")
    assert f"_commit: {LATER}" in git(remote, "show", f"{BRANCH}:.copier-answers.yml").splitlines()
    assert git(remote, "show", f"{BRANCH}:README.md").count(README_LINE) == 2  # EDITED's own, and the new commit's
    assert [pr["draft"] for pr in rollout.prs()] == [False, True, False]

    # 3b. The default branch moves to where the update conflicts: the rebuilt update is pushed, and
    # its pull request becomes a draft, as a new one would be.
    push_commit(remote, "main", tmp_path, pin_bump)
    code, report = rollout.run(LATER, ORG, EDITED.name)
    assert (code, report) == (0, {f"{ORG}/{EDITED.name}": "pull request updated as a draft, check_template_sync.py "
                                  f"fails (resolve it on the branch): {BRANCH} rebuilt and pushed"})  # fmt: skip
    assert "<<<<<<< before updating" in git(remote, "show", f"{BRANCH}:{PUBLISH}")
    assert [pr["draft"] for pr in rollout.prs()] == [True, True, False]
    # Someone marks it ready for review by hand: the next run, which has nothing to rebuild, puts
    # the draft back while the conflict stands (as it would after a `gh pr ready` that failed).
    set_pull_request(rollout, EDITED, draft=False)
    code, report = rollout.run(LATER, ORG, EDITED.name)
    assert (code, report) == (0, {f"{ORG}/{EDITED.name}": f"up to date: {BRANCH} already holds this update"})
    assert [pr["draft"] for pr in rollout.prs()] == [True, True, False]

    # 4. Someone closes EDITED's pull request and its default branch moves on again: the closed
    # pull request's branch is not pushed to (nor a new pull request opened).
    set_pull_request(rollout, EDITED, state="CLOSED")
    push_commit(remote, "main", tmp_path)
    before = refs(remote)
    code, report = rollout.run(LATER, ORG, EDITED.name)
    assert (code, report) == (0, {f"{ORG}/{EDITED.name}": f"left alone: the pull request of {BRANCH} is CLOSED"})
    assert refs(remote) == before
    assert len(rollout.prs()) == 3


@pytest.mark.slow  # one copier update
def test_rollout_fetches_and_pushes_a_private_repository_with_the_token_gh_has(
    rollout: Rollout, tmp_path: Path
) -> None:
    """In a workflow, gh knows only GH_TOKEN (a GitHub App's) and git has no credential helper:
    `gh repo clone` authenticates its own clone alone, so the script's fetch and push must ask gh
    too. Here every request needs the token, as a private repository's do on GitHub."""
    served = tmp_path / "served"
    remote = bare_remote(served, BEHIND.name, maintained_copy(BEHIND, tmp_path / "work" / BEHIND.name))
    token = "ghs_a-github-app-installation-token"
    env = {k: v for k, v in rollout.env.items() if k not in ("GIT_ASKPASS", "SSH_ASKPASS")}
    rollout.env = env | {"GH_TOKEN": token, "GIT_TERMINAL_PROMPT": "0"}
    with git_http_server(served, "x-access-token", token) as (url, log):
        code, report = rollout.run(LATER, ORG, BEHIND.name, FAKE_GH_URL=url)
        assert (code, report) == (0, {f"{ORG}/{BEHIND.name}": f"pull request opened: {PR_URL(BEHIND.name, 1)}"})
        # Again: the kept clone fetches (a private repository's fetch needs the token too).
        code, report = rollout.run(LATER, ORG, BEHIND.name, FAKE_GH_URL=url)
        assert (code, report) == (0, {f"{ORG}/{BEHIND.name}": f"up to date: {BRANCH} already holds this update"})
    assert f"_commit: {LATER}" in git(remote, "show", f"{BRANCH}:.copier-answers.yml").splitlines()
    served_ok = {(method, path.rsplit("/", 1)[-1]) for method, path, status in log if status == 200}
    assert {("POST", "git-receive-pack"), ("POST", "git-upload-pack")} <= served_ok, log
    assert {status for _, _, status in log} == {200, 401}  # each asked for the token, and was given it


@pytest.mark.slow  # three copier updates (one refused), then one refused
def test_rollout_of_local_checkouts_goes_on_past_a_refused_one_and_is_safe_to_rerun(
    rollout: Rollout,
) -> None:
    """`--local`, as docs/organisations.md runs it: the update committed on a branch, nothing pushed."""
    members = (REFUSED, BEHIND, CONFLICTED)
    for member in members:
        maintained_copy(member, rollout.cwd / member.name)
    heads = {m.name: git(rollout.cwd / m.name, "rev-parse", "HEAD") for m in members}
    expected = {
        BEHIND.name: f"committed on {BRANCH}",
        CONFLICTED.name: f"committed on {BRANCH}, check_template_sync.py fails: resolve it there",
    }
    for again in (False, True):
        code, report = rollout.run("--local", LATER, *(f"{m.name}/" for m in members))
        outcome = report.pop(REFUSED.name)
        assert outcome.startswith("FAILED: copier update: "), outcome
        assert "'python_min'" in outcome, outcome
        if again:
            expected = dict.fromkeys(expected, f"up to date: {BRANCH} already holds this update")
        assert (code, report) == (1, expected)
        for member in members:
            project = rollout.cwd / member.name
            # Each checkout is back where it was, clean; the update waits on its branch.
            assert git(project, "symbolic-ref", "--short", "HEAD") == "main"
            assert git(project, "rev-parse", "HEAD") == heads[member.name]
            assert git(project, "status", "--porcelain", "--ignored") == ""
            if member is REFUSED:
                assert git(project, "branch", "--list", BRANCH) == ""
            else:
                assert git(project, "rev-parse", f"{BRANCH}^") == heads[member.name]
                assert f"_commit: {LATER}" in git(project, "show", f"{BRANCH}:.copier-answers.yml").splitlines()


def test_rollout_leaves_a_checkout_with_untracked_files_alone_and_names_them(rollout: Rollout) -> None:
    """An untracked file would be swept into the update's commit: the checkout is refused, and the
    report names the file (as `git diff` would not)."""
    project = maintained_copy(BEHIND, rollout.cwd / BEHIND.name)
    head = git(project, "rev-parse", "HEAD")
    (project / "notes").mkdir()
    (project / "notes" / "draft.txt").write_text("mine\n", encoding="utf-8")
    code, report = rollout.run("--local", LATER, BEHIND.name)
    assert (code, report) == (
        1,
        {BEHIND.name: "FAILED: uncommitted changes (notes/draft.txt): commit or stash them first"},
    )
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "branch", "--list", BRANCH) == ""
    assert (project / "notes" / "draft.txt").read_text(encoding="utf-8") == "mine\n"


def test_rollout_leaves_another_template_and_a_repository_past_the_release_alone(
    rollout: Rollout, tmp_path: Path
) -> None:
    """A repository of a template whose name only starts like this one's is not this template's; one
    already after the release (a canary on the next candidate, a commit after the tag) is up to date:
    copier refuses to go back, which would be a failure."""
    recorded = {"docs-site": ("pypi-template-docs", LATER), "canary": ("", "v1.3.0rc1"),
                "after-tag": ("", f"{LATER}-2-g0123abc"), "same": ("", LATER)}  # fmt: skip
    for name, (src, commit) in recorded.items():
        project = maintained_copy(BEHIND, rollout.cwd / name)
        src_path = load_answers(project)["_src_path"]
        set_answers(project, _commit=commit, _src_path=src_path.replace("pypi-template", src) if src else src_path)
    code, report = rollout.run("--local", LATER, *recorded)
    assert (code, report) == (0, {
        "docs-site": "skipped: not generated from pypi-template",
        "canary": f"up to date: already on v1.3.0rc1, after {LATER}",
        "after-tag": f"up to date: already on {LATER}-2-g0123abc, after {LATER}",
        "same": f"up to date: already on {LATER}",
    })  # fmt: skip
    assert [git(rollout.cwd / name, "branch", "--list", BRANCH) for name in recorded] == [""] * len(recorded)
    # Copied without the status.py it orders releases with: a failure that says so, not an update.
    alone = tmp_path / "tooling" / "rollout.sh"
    alone.parent.mkdir()
    shutil.copy(ROLLOUT, alone)
    code, report = rollout.run("--local", LATER, "canary", script=alone)
    assert (code, report) == (1, {"canary": f"FAILED: cannot order v1.3.0rc1 and {LATER} (is fleet/status.py beside "
                                            "rollout.sh?)"})  # fmt: skip
