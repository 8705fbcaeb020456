"""scripts/setup_github.sh: the GitHub environments RELEASING.md asks for, made with `gh api`.

Run here against a stand-in `gh` first on PATH that records each call and answers as GitHub's REST
API documents it (docs.github.com/en/rest/deployments/environments and .../branch-policies):
it keeps the environments and tag rules between calls, refuses a body the API would refuse (422),
and answers a second POST of the same rule with 303. Each project kind and TestPyPI on and off,
with odd names; every run twice.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.checkers import shellcheck
from support.render import render_once

LOGIN = "YOUR-LOGIN"  # the signed-in user, as RELEASING.md's example output names it
IDS = {
    "user": {LOGIN: 1001, "octocat": 583231, **{f"r{i}": 90 + i for i in range(1, 7)}},
    "team": {("Acme-Corp", "release-team"): 77},
}
CASES = {
    "testpypi": {"project_name": "Acme.Odd_Tools", "github_owner": "Acme-Corp", "repository_name": "acme.odd_tools"},
    "pypi-only": {"project_name": "acme_x", "github_owner": "A1", "repository_name": "x_repo.y",
                  "use_testpypi": False, "project_kind": "meta-package", "extras": {}},
}  # fmt: skip
POLICY_BODY = {"protected_branches": False, "custom_branch_policies": True}

FAKE_GH = """
import json, os, re, sys
args, state_file, log = sys.argv[1:], os.environ["FAKE_GH_STATE"], os.environ["FAKE_GH_LOG"]
ids = json.loads(os.environ["FAKE_GH_IDS"])
state = json.load(open(state_file)) if os.path.exists(state_file) else {}
method, path, jq, body, rest = "GET", None, None, None, args[1:]
if args[:1] != ["api"]:
    sys.exit(f"fake gh: unsupported: {args}")
while rest:
    if rest[0] == "--method": method, rest = rest[1], rest[2:]
    elif rest[0] == "--jq": jq, rest = rest[1], rest[2:]
    elif rest[:2] == ["--input", "-"]: body, rest = json.loads(sys.stdin.read()), rest[2:]
    elif path is None and not rest[0].startswith("-"): path, rest = rest[0], rest[1:]
    else: sys.exit(f"fake gh: unsupported: {args}")
with open(log, "a") as fh:
    fh.write(json.dumps({"method": method, "path": path, "body": body, "jq": jq}) + "\\n")
def fail(status, message):
    sys.exit(f"gh: {message} (HTTP {status})")
def reviewers_ok(reviewers):
    return len(reviewers) <= 6 and all(set(r) == {"type", "id"} and r["type"] in ("User", "Team")
                                       and type(r["id"]) is int for r in reviewers)
def policy_ok(policy):  # one of the two is true, the other false; or null: every branch
    return policy is None or (set(policy) == {"protected_branches", "custom_branch_policies"}
                              and {policy["protected_branches"], policy["custom_branch_policies"]} == {True, False})
env = re.fullmatch(r"repos/([^/]+)/([^/]+)/environments/([^/]+)(/deployment-branch-policies)?(?:/([0-9]+))?",
                   path or "")
if path == "user":
    answer = {"login": os.environ["FAKE_GH_LOGIN"], "id": ids["user"][os.environ["FAKE_GH_LOGIN"]]}
elif path.startswith("users/"):
    login = path.split("/", 1)[1]
    if login not in ids["user"]: fail(404, "Not Found")
    answer = {"login": login, "id": ids["user"][login]}
elif re.fullmatch(r"orgs/[^/]+/teams/[^/]+", path):
    _, org, _, slug = path.split("/")
    team = ids["team"].get(f"{org}/{slug}")
    if team is None: fail(404, "Not Found")
    answer = {"id": team, "slug": slug}
elif env and not env[4] and method == "PUT":
    body = body or {}
    if not (set(body) <= {"wait_timer", "prevent_self_review", "reviewers", "deployment_branch_policy"}
            and reviewers_ok(body.get("reviewers", [])) and policy_ok(body.get("deployment_branch_policy"))):
        fail(422, "Validation Failed")
    old = state.get(path, {})
    policy = body.get("deployment_branch_policy")
    kept = old.get("branch_policies", []) if policy and policy["custom_branch_policies"] else []
    state[path] = {"name": env[3], "reviewers": body.get("reviewers", []), "deployment_branch_policy": policy,
                   "branch_policies": kept}
    answer = state[path]
elif env and env[4] and env[5] and method == "DELETE":
    environment = state.get(path.rsplit("/deployment-branch-policies/", 1)[0]) or {}
    kept = [p for p in environment.get("branch_policies", []) if p["id"] != int(env[5])]
    if len(kept) == len(environment.get("branch_policies", [])): fail(404, "Not Found")
    environment["branch_policies"] = kept
    answer = None
elif env and env[4] and not env[5]:
    environment = state.get(path.removesuffix("/deployment-branch-policies"))
    if environment is None or not (environment["deployment_branch_policy"] or {}).get("custom_branch_policies"):
        fail(404, "Not Found")
    if method == "GET":
        answer = {"total_count": len(environment["branch_policies"]), "branch_policies": environment["branch_policies"]}
    elif method == "POST":
        if not (body and set(body) <= {"name", "type"} and body.get("type", "branch") in ("branch", "tag")):
            fail(422, "Validation Failed")
        rule = {"name": body["name"], "type": body.get("type", "branch")}
        if any(p["name"] == rule["name"] and p["type"] == rule["type"] for p in environment["branch_policies"]):
            fail(303, "See Other")
        answer = {"id": 1 + max([p["id"] for p in environment["branch_policies"]], default=0), **rule}
        environment["branch_policies"].append(answer)
    else: sys.exit(f"fake gh: unsupported: {args}")
else:
    sys.exit(f"fake gh: unsupported: {args}")
json.dump(state, open(state_file, "w"))
JQ = {".id": lambda d: d["id"], ".login": lambda d: d["login"],
      '.branch_policies[] | "\\(.id) \\(.type) \\(.name)"':
          lambda d: "\\n".join(f"{p['id']} {p['type']} {p['name']}" for p in d["branch_policies"])}
if answer is None: pass
elif jq is None: print(json.dumps(answer))
elif jq in JQ: print(JQ[jq](answer))
else: sys.exit(f"fake gh: unsupported --jq {jq}")
"""


class GitHub:
    """The stand-in's state and call log, and the script run against it."""

    def __init__(self, root: Path) -> None:
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "gh").write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
        (bin_dir / "gh").chmod(0o755)
        self.state, self.log = root / "github.json", root / "calls.jsonl"
        ids = {"user": IDS["user"], "team": {f"{o}/{s}": i for (o, s), i in IDS["team"].items()}}
        self.env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_GH_STATE": str(self.state),
                    "FAKE_GH_LOG": str(self.log), "FAKE_GH_IDS": json.dumps(ids), "FAKE_GH_LOGIN": LOGIN}  # fmt: skip

    def run(self, project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        """The script's process and the calls it made."""
        before = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        proc = subprocess.run(
            ["scripts/setup_github.sh", *args], cwd=project, env=self.env, capture_output=True, text=True, check=False
        )
        lines = self.log.read_text(encoding="utf-8").splitlines()[len(before) :] if self.log.exists() else []
        return proc, [json.loads(line) for line in lines]

    def environments(self) -> dict[str, Any]:
        return json.loads(self.state.read_text(encoding="utf-8"))


@pytest.fixture(params=list(CASES))
def project(request: pytest.FixtureRequest) -> tuple[Path, dict[str, Any]]:
    answers = CASES[request.param]
    return render_once(f"setup-github-{request.param}", answers), answers


def test_script_passes_shellcheck(project: tuple[Path, dict[str, Any]]) -> None:
    proc = shellcheck(project[0] / "scripts" / "setup_github.sh")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def expected_calls(answers: dict[str, Any], *, first: bool) -> list[dict[str, Any]]:
    repo = f"repos/{answers['github_owner']}/{answers['repository_name']}/environments"
    calls = [
        {"method": "GET", "path": "user", "body": None, "jq": ".login"},
        {"method": "GET", "path": f"users/{LOGIN}", "body": None, "jq": ".id"},
    ]
    if answers.get("use_testpypi", True):
        calls.append({"method": "PUT", "path": f"{repo}/testpypi", "body": None, "jq": None})
    pypi = {"reviewers": [{"type": "User", "id": IDS["user"][LOGIN]}], "deployment_branch_policy": POLICY_BODY}
    calls.append({"method": "PUT", "path": f"{repo}/pypi", "body": pypi, "jq": None})
    rules = '.branch_policies[] | "\\(.id) \\(.type) \\(.name)"'
    calls.append({"method": "GET", "path": f"{repo}/pypi/deployment-branch-policies", "body": None, "jq": rules})
    if first:
        rule = {"name": "v*", "type": "tag"}
        calls.append({"method": "POST", "path": f"{repo}/pypi/deployment-branch-policies", "body": rule, "jq": None})
    return calls


def documented_output(project: Path) -> str:
    """The output RELEASING.md shows under `scripts/setup_github.sh`."""
    text = (project / "RELEASING.md").read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ scripts/setup_github.sh\n(.*?)```", text, re.DOTALL)
    assert block, "RELEASING.md shows no run of scripts/setup_github.sh"
    return block[1]


def test_setup_creates_the_environments_and_is_safe_to_rerun(
    project: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, answers = project
    github = GitHub(tmp_path)
    first, calls = github.run(path)
    assert first.returncode == 0, first.stderr
    assert calls == expected_calls(answers, first=True)
    assert first.stdout == documented_output(path)
    state = github.environments()
    # A second run sets the same state with the same PUTs, finds the tag rule and adds none (the
    # API would answer 303, which the stand-in turns into a failure).
    second, again = github.run(path)
    assert second.returncode == 0, second.stderr
    assert again == expected_calls(answers, first=False)
    assert github.environments() == state
    assert second.stdout.splitlines()[:-1] == first.stdout.splitlines()[:-1]
    assert second.stdout.splitlines()[-1].endswith("deployment-branch-policies: tag rule v* already there")
    pypi = state[f"repos/{answers['github_owner']}/{answers['repository_name']}/environments/pypi"]
    assert pypi["branch_policies"] == [{"id": 1, "name": "v*", "type": "tag"}]
    # What its --help says it creates: one environment, or two.
    made = {key.rsplit("/environments/", 1)[1] for key in state if "/environments/" in key}
    purpose = (path / "scripts" / "setup_github.sh").read_text(encoding="utf-8").splitlines()[1]
    assert purpose.startswith(
        "# Create the GitHub environments " if len(made) > 1 else "# Create the GitHub environment "
    )


def test_setup_takes_reviewers_and_teams(project: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    github = GitHub(tmp_path)
    proc, calls = github.run(project[0], "--team", "Acme-Corp/release-team", "--reviewer", "octocat", "--repo", "o/r")
    assert proc.returncode == 0, proc.stderr
    (put,) = [c for c in calls if c["path"] == "repos/o/r/environments/pypi"]
    assert put["body"]["reviewers"] == [{"type": "Team", "id": 77}, {"type": "User", "id": 583231}]
    assert "required reviewers team Acme-Corp/release-team, octocat;" in proc.stdout
    assert not [c for c in calls if c["path"] == "user"]  # reviewers given: nobody is added unasked


def test_setup_deletes_every_other_deployment_rule_of_pypi(
    project: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """A branch rule (main) or another tag's would let pypi deploy it too: the script deletes them,
    says so, and keeps the v* rule, as RELEASING.md says."""
    github = GitHub(tmp_path)
    assert github.run(project[0], "--repo", "o/r")[0].returncode == 0
    state = github.environments()
    rules = state["repos/o/r/environments/pypi"]["branch_policies"]
    rules += [{"id": 7, "name": "main", "type": "branch"}, {"id": 8, "name": "release-*", "type": "tag"}]
    github.state.write_text(json.dumps(state), encoding="utf-8")
    proc, calls = github.run(project[0], "--repo", "o/r")
    assert proc.returncode == 0, proc.stderr
    policies = "repos/o/r/environments/pypi/deployment-branch-policies"
    assert [c["path"] for c in calls if c["method"] == "DELETE"] == [f"{policies}/7", f"{policies}/8"]
    assert f"DELETE {policies}/7: branch rule main removed (pypi deploys v* tags only)" in proc.stdout
    assert f"DELETE {policies}/8: tag rule release-* removed (pypi deploys v* tags only)" in proc.stdout
    assert github.environments()["repos/o/r/environments/pypi"]["branch_policies"] == [
        {"id": 1, "name": "v*", "type": "tag"}
    ]


def test_setup_takes_at_most_six_reviewers_each_once(project: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    github = GitHub(tmp_path)
    proc, calls = github.run(project[0], *["--reviewer", "octocat"] * 2, "--team", "Acme-Corp/release-team")
    assert proc.returncode == 0, proc.stderr
    (put,) = [c for c in calls if c["path"].endswith("/environments/pypi")]
    assert put["body"]["reviewers"] == [{"type": "User", "id": 583231}, {"type": "Team", "id": 77}]
    assert "required reviewers octocat, team Acme-Corp/release-team;" in proc.stdout
    seven = [arg for name in [*(f"r{i}" for i in range(1, 7)), "octocat"] for arg in ("--reviewer", name)]
    proc, calls = github.run(project[0], *seven)
    assert (proc.returncode, proc.stderr) == (
        2,
        "error: an environment takes at most 6 reviewers (users and teams); 7 given\n",
    )
    assert not [c for c in calls if c["method"] != "GET"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--reviewer"], "usage:"), (["--team", "no-slash"], "usage:"), (["--reviewer", "nobody"], "Not Found")],
)
def test_setup_refuses_bad_arguments_before_any_change(
    project: tuple[Path, dict[str, Any]], tmp_path: Path, args: list[str], message: str
) -> None:
    github = GitHub(tmp_path)
    proc, calls = github.run(project[0], *args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert not [c for c in calls if c["method"] != "GET"]


def test_setup_script_is_valid_bash_and_executable(project: tuple[Path, dict[str, Any]]) -> None:
    script = project[0] / "scripts" / "setup_github.sh"
    assert script.stat().st_mode & 0o111
    proc = subprocess.run(["bash", "-n", script], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
