#!/usr/bin/env python3
"""Which template release each repository of the fleet runs, and what stops it from updating.

Run it from a clone of the template repository (it reads the releases from the tags of --template,
by default this clone's origin, and runs template/.github/scripts/check_template_sync.py's checks):

    python fleet/status.py --owner acme-corp          # GitHub: the repositories with the topic pypi-template (gh)
    python fleet/status.py --repos fleet.txt          # any host: one git URL a line, `#` comments
    python fleet/status.py --repos fleet.txt --json   # a JSON document for other tools

Standard library and git only (Python 3.10+; `uv run fleet/status.py` works too). Every repository
is read with git alone: a shallow clone without file contents (`--depth 1 --filter=blob:none`),
then only the answers file of the default branch, and the files of each template-update branch.

For each repository: the release its default branch records (`_commit`), how far it is behind the
latest release of the template (major, minor or patch, by PEP 440 order as copier sorts tags;
pre-releases never count as the latest), a `_src_path` no updater can use (a `gh:`/`gl:` shortcut,
a path), a `_commit` that is not a release tag (`v1.0.0-3-gabc1234`), a missing or unreadable
answers file; its ring (`canary` for a topic `pypi-template-canary`, a URL in the --canary
file, or a Renovate configuration that extends fleet/renovate-canary.json; otherwise `default`),
and its template-update branches that would move it forward: Renovate's (`renovate/...`) and
fleet/rollout.sh's (`pypi-template-<release>`) whose answers file records a later release (the
branch of a merged update, which the host keeps, records the same or an earlier one: it is left
out), each with the result of the generated project's check_template_sync.py on that branch's files.

The Markdown report: a table (a row per repository), then a line per release. With --json, a
document with these keys (stable; a key may be added, none is renamed or removed):

    template            the template repository read for releases
    latest              its latest release tag (null: no release tag)
    repositories[]      one object per repository, sorted by name:
      name, url         `owner/name` (the URL's last two parts) and the git URL
      ring              "canary", another ring's name, or "default"
      state             "ok", "missing" (no answers file), "unreadable" (no _commit or _src_path),
                        "unreachable" (git could not read the repository)
      src_path, commit  `_src_path` and `_commit` of the default branch (null when absent)
      release           the release tag `commit` is or comes after (null: none)
      behind            "up to date", "patch", "minor", "major", "ahead", or null (no release)
      problems[]        {"code", "message"}: code is "src-shortcut", "src-path", "commit-describe",
                        "commit-not-release", "commit-unknown", "answers-missing",
                        "answers-unreadable" or "unreachable"
      update_branches[] {"name", "commit" (its _commit), "check" ("pass" or "fail"), "problems"
                        (check_template_sync.py's lines)}
    releases[]          one object per release found, newest first, then null (no release):
      release, repositories, behind, failing_update_branches   (counts)

Exit status: 0 with a report (whatever it shows), 1 when the template or the listing cannot be
read, 2 for wrong arguments.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ANSWERS_FILE = ".copier-answers.yml"
TOPIC = "pypi-template"
RENOVATE_PREFIX = "renovate/"  # Renovate's default branchPrefix
ROLLOUT_PREFIX = "pypi-template-"  # fleet/rollout.sh's branch: pypi-template-<release>
CHECK_SCRIPT = Path(__file__).resolve().parent.parent / "template" / ".github" / "scripts" / "check_template_sync.py"
DEFAULT_RING = "default"
# PEP 440, as packaging.version parses it (a leading `v`, other spellings, local versions).
VERSION = re.compile(
    r"""^\s*v?(?:(?P<epoch>[0-9]+)!)?(?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>-(?P<post_n1>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?
    (?P<dev>[-_.]?dev[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
PRE_LETTER = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}


@dataclass(frozen=True, order=True)
class Version:
    """A PEP 440 version, ordered as packaging.version.Version orders them."""

    key: tuple[Any, ...]
    release: tuple[int, ...] = field(compare=False)
    epoch: int = field(compare=False)
    is_prerelease: bool = field(compare=False)


def parse_version(text: str) -> Version | None:
    match = VERSION.match(text)
    if not match:
        return None
    epoch = int(match["epoch"] or 0)
    release = tuple(int(part) for part in match["release"].split("."))
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    pre_l = match["pre_l"]
    dev = match["dev"] is not None
    if pre_l:
        pre: tuple[Any, ...] = (1, PRE_LETTER.get(pre_l.lower(), pre_l.lower()), int(match["pre_n"] or 0))
    elif match["post"] is None and dev:
        pre = (0,)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = (2,)
    post_n = match["post_n1"] or match["post_n2"]
    post = (1, int(post_n or 0)) if match["post"] else (0,)
    dev_key = (0, int(match["dev_n"] or 0)) if dev else (1,)
    local = (
        tuple((1, int(p), "") if p.isdigit() else (0, 0, p.lower()) for p in re.split(r"[-_.]", match["local"]))
        if match["local"]
        else ()
    )
    key = (epoch, tuple(trimmed), pre, post, dev_key, (1, local) if local else (0,))
    return Version(key, release, epoch, is_prerelease=bool(pre_l) or dev)


def latest_release(tags: Iterable[str]) -> str | None:
    """The tag copier takes by default: the highest PEP 440 version that is not a pre-release."""
    found = [(v, tag) for tag in tags if (v := parse_version(tag)) and not v.is_prerelease]
    return max(found)[1] if found else None


def behind(current: str, latest: str) -> str:
    """How far release tag `current` is behind `latest`: "up to date", "patch", "minor", "major", "ahead"."""
    cur, new = parse_version(current), parse_version(latest)
    assert cur, current
    assert new, latest
    if cur >= new:
        return "up to date" if cur == new else "ahead"
    if cur.epoch != new.epoch or cur.release[0] != new.release[0]:
        return "major"
    if (*cur.release, 0)[1] != (*new.release, 0)[1]:
        return "minor"
    return "patch"


# --- git -----------------------------------------------------------------------------------------


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # No prompt for credentials: a repository that needs them is reported unreachable, not waited on.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env)


def template_tags(url: str) -> list[str]:
    proc = git("ls-remote", "--tags", "--refs", url)
    if proc.returncode:
        raise SystemExit(f"status.py: cannot read the tags of {url}: {proc.stderr.strip()}")
    return [line.split("refs/tags/", 1)[1] for line in proc.stdout.splitlines() if "refs/tags/" in line]


def load_check(path: Path) -> ModuleType:
    """The generated project's check_template_sync.py, imported (its main() is guarded)."""
    if not path.is_file():
        raise SystemExit(f"status.py: no {path}: run from a clone of the template, or pass --check-script")
    spec = importlib.util.spec_from_file_location("check_template_sync", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_template_sync"] = module  # its dataclass looks its module up by name
    spec.loader.exec_module(module)
    return module


# --- One repository ------------------------------------------------------------------------------


@dataclass
class Repository:
    name: str
    url: str
    ring: str = DEFAULT_RING
    state: str = "ok"
    src_path: str | None = None
    commit: str | None = None
    release: str | None = None
    behind: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    update_branches: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, code: str, message: str) -> None:
        self.problems.append({"code": code, "message": message})


def repo_name(url: str) -> str:
    parts = [p for p in re.split(r"[/:]", url.rstrip("/").removesuffix(".git")) if p]
    return "/".join(parts[-2:])


@dataclass(frozen=True)
class Options:
    tags: frozenset[str]
    latest: str | None
    answers_file: str
    renovate_prefix: str
    rollout_prefix: str
    check: ModuleType


def release_of(commit: str, opts: Options) -> str:
    """The release tag `commit` is, or comes after (`git describe`'s v1.0.0-3-gabc1234: v1.0.0)."""
    return commit.rsplit("-", 2)[0] if opts.check.DESCRIBE.fullmatch(commit) else commit


def read_answers(repo: Repository, lines: list[str] | None, opts: Options) -> None:
    """Fill what the default branch's answers file says; `lines` is None when there is none."""
    check = opts.check
    if lines is None:
        repo.state = "missing"
        repo.problem("answers-missing", f"no {opts.answers_file} on the default branch")
        return
    src, commit = check.answer(lines, "_src_path"), check.answer(lines, "_commit")
    repo.src_path, repo.commit = src and src[1], commit and commit[1]
    if not repo.src_path or not repo.commit:
        repo.state = "unreadable"
        repo.problem("answers-unreadable", f"{opts.answers_file} records no _src_path or no _commit")
        return
    if check.source_problem(repo.src_path):
        if repo.src_path.startswith(tuple(check.SHORTCUTS)):
            repo.problem("src-shortcut", f"_src_path `{repo.src_path}` is a shortcut Renovate cannot resolve")
        else:
            repo.problem("src-path", f"_src_path `{repo.src_path}` is a path no updater can use")
    release = release_of(repo.commit, opts)
    if release != repo.commit:
        repo.problem("commit-describe", f"_commit `{repo.commit}` is a commit after {release}, not a release")
    elif check.commit_problem(repo.commit):  # the check's rule: a hash in digits alone is no release either
        repo.problem("commit-not-release", f"_commit `{repo.commit}` is not a release tag")
        return
    if release not in opts.tags:
        repo.problem("commit-unknown", f"`{release}` is no tag of the template")
    if parse_version(release):
        repo.release = release
        repo.behind = behind(release, opts.latest) if opts.latest else None


def check_branch(clone: Path, ref: str, opts: Options) -> dict[str, Any] | None:
    """check_template_sync.py's checks on the files of branch `ref`; None if it is no template update."""
    branch = ref.removeprefix("refs/remotes/origin/")
    show = git("show", f"{ref}:{opts.answers_file}", cwd=clone)
    commit = opts.check.answer(show.stdout.splitlines(), "_commit") if show.returncode == 0 else None
    if branch.startswith(opts.renovate_prefix) and commit is None:
        return None  # Renovate's branch of another manager: no answers file to update
    proc = git("checkout", "--quiet", "--force", "--detach", ref, cwd=clone)
    if proc.returncode:
        return {"name": branch, "commit": commit and commit[1], "check": "fail",
                "problems": [f"git checkout: {proc.stderr.strip()}"]}  # fmt: skip
    problems = [str(p) for p in opts.check.check(clone, opts.answers_file)]
    return {"name": branch, "commit": commit and commit[1], "check": "fail" if problems else "pass",
            "problems": problems}  # fmt: skip


# Where Renovate looks for a repository's configuration, in its order (configFileNames in
# renovate/lib/config/app-strings.ts; package.json's "renovate" key is not read here).
RENOVATE_CONFIGS = ("renovate.json", "renovate.jsonc", "renovate.json5",
                    ".github/renovate.json", ".github/renovate.jsonc", ".github/renovate.json5",
                    ".gitlab/renovate.json", ".gitlab/renovate.jsonc", ".gitlab/renovate.json5",
                    ".renovaterc", ".renovaterc.json", ".renovaterc.jsonc", ".renovaterc.json5")  # fmt: skip
CANARY_PRESET = "fleet/renovate-canary.json"


def is_canary_preset(entry: object) -> bool:
    """Whether an `extends` entry names the canary preset, as Renovate reads it: `.json` may be left
    out (Renovate adds it) and a `#tag` may follow (github>ORG/pypi-template//fleet/renovate-canary#v2.1.0)."""
    if not isinstance(entry, str):
        return False
    path = entry.split("#", 1)[0]
    return path.endswith((CANARY_PRESET, CANARY_PRESET.removesuffix(".json")))


def extends_canary_preset(clone: Path) -> bool:
    """Whether the default branch's Renovate configuration extends the canary ring's preset
    (docs/updating.md, "Rolling out a release in rings"): the ring a repository joins itself."""
    # One listing of the files that exist, not a `git show` per candidate name (this runs per repository).
    ls_tree = git("ls-tree", "--name-only", "refs/remotes/origin/HEAD", "--", *RENOVATE_CONFIGS, cwd=clone)
    listed = set(ls_tree.stdout.split())
    name = next((n for n in RENOVATE_CONFIGS if n in listed), None)
    show = git("show", f"refs/remotes/origin/HEAD:{name}", cwd=clone) if name else None
    if show is None or show.returncode:
        return False
    try:
        extends = json.loads(show.stdout).get("extends", [])
    except (ValueError, AttributeError):  # JSON5 or not an object: look for the preset's path
        return CANARY_PRESET.removesuffix(".json") in show.stdout
    return any(is_canary_preset(e) for e in extends)


def moves_forward(commit: str | None, repo: Repository, opts: Options) -> bool:
    """Whether a branch recording `commit` would update the default branch: not the same, nor an
    earlier release. A `commit` or release that does not parse is shown, for the check to judge."""
    if commit == repo.commit:
        return False
    if commit is None or repo.release is None:
        return True
    new, current = parse_version(release_of(commit, opts)), parse_version(repo.release)
    if new is None or current is None:
        return True
    return new > current or (new == current and commit != repo.release)


def inspect(repo: Repository, opts: Options) -> Repository:
    with tempfile.TemporaryDirectory(prefix="fleet-status-") as tmp:
        clone = Path(tmp, "repo")
        proc = git("clone", "--quiet", "--depth", "1", "--no-single-branch", "--filter=blob:none", "--no-checkout",
                   repo.url, str(clone))  # fmt: skip
        head = (
            git("rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD", cwd=clone)
            if not proc.returncode
            else proc
        )
        if proc.returncode or head.returncode:
            repo.state = "unreachable"
            errors = [line for line in proc.stderr.splitlines() if line.startswith("fatal: ")]
            repo.problem("unreachable", errors[0] if errors else "git clone: no default branch (an empty repository?)")
            return repo
        show = git("show", f"refs/remotes/origin/HEAD:{opts.answers_file}", cwd=clone)
        read_answers(repo, show.stdout.splitlines() if show.returncode == 0 else None, opts)
        if repo.ring == DEFAULT_RING and extends_canary_preset(clone):
            repo.ring = "canary"
        if repo.state != "ok":
            return repo
        refs = git("for-each-ref", "--format=%(refname)", "refs/remotes/origin/", cwd=clone).stdout.split()
        for ref in refs:
            branch = ref.removeprefix("refs/remotes/origin/")
            if branch.startswith((opts.renovate_prefix, opts.rollout_prefix)):
                found = check_branch(clone, ref, opts)
                if found and moves_forward(found["commit"], repo, opts):
                    repo.update_branches.append(found)
    return repo


# --- The fleet -----------------------------------------------------------------------------------


def same_url(url: str) -> str:
    """`url` as the --canary file and the listing are compared: with or without `.git` or a final
    `/` (gh lists `https://github.com/OWNER/NAME`, git URLs often end in `.git`), the scheme and
    host in any case, and on GitHub, whose names ignore case, the path too. Paths keep theirs."""
    url = url.strip().rstrip("/").removesuffix(".git").rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if not (parts.scheme and parts.netloc):
        return url
    host = parts.netloc.lower()
    path = parts.path.lower() if host.rsplit("@", 1)[-1] in ("github.com", "www.github.com") else parts.path
    return urllib.parse.urlunsplit((parts.scheme.lower(), host, path, parts.query, parts.fragment))


def read_list(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SystemExit(f"status.py: cannot read {path}: {error.strerror}") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def github_fleet(owner: str, topic: str) -> list[Repository]:
    """The repositories of `owner` with `topic`, with a ring from a second topic `<topic>-<ring>`."""
    # Every repository, filtered here: gh's --topic and --no-archived ask GitHub's search, which
    # stops at 1000 results without a word; the plain listing pages through them all.
    try:
        proc = subprocess.run(
            ["gh", "repo", "list", owner, "--limit", "100000",
             "--json", "url,defaultBranchRef,repositoryTopics,isArchived"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise SystemExit("status.py: --owner lists repositories with the GitHub CLI, gh, which is not on PATH "
                         "(https://cli.github.com/), or give --repos a file of git URLs") from None  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"status.py: gh repo list {owner} failed: {proc.stderr.strip()}")
    repos = []
    for item in json.loads(proc.stdout):
        topics = [t["name"] if isinstance(t, dict) else t for t in item.get("repositoryTopics") or []]
        if item.get("isArchived") or topic not in topics:
            continue
        rings = sorted(t.removeprefix(f"{topic}-") for t in topics if t.startswith(f"{topic}-"))
        repos.append(Repository(repo_name(item["url"]), item["url"], rings[0] if rings else DEFAULT_RING))
    return repos


def summarise(repos: list[Repository]) -> list[dict[str, Any]]:
    by_release: dict[str | None, list[Repository]] = {}
    for repo in repos:
        by_release.setdefault(repo.release, []).append(repo)
    order = sorted((r for r in by_release if r), key=lambda r: parse_version(r), reverse=True)  # type: ignore[arg-type,return-value]
    return [
        {
            "release": release,
            "repositories": len(group),
            "behind": sum(r.behind not in (None, "up to date", "ahead") for r in group),
            "failing_update_branches": sum(b["check"] == "fail" for r in group for b in r.update_branches),
        }
        for release in [*order, *([None] if None in by_release else [])]
        for group in [by_release[release]]
    ]


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(template: str, latest: str | None, repos: list[Repository]) -> str:
    lines = [
        (
            f"## Fleet of {repo_name(template)}: {plural(len(repos), 'repository', 'repositories')}, "
            f"latest release {latest or 'none'}"
        ),
        "",
        "| Repository | Ring | Release | Behind | Update branch | Branch check | Problems |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in repos:
        branches = "<br>".join(f"`{b['name']}` ({b['commit']})" for b in r.update_branches)
        checks = "<br>".join(
            b["check"] if b["check"] == "pass" else f"fail: {len(b['problems'])} problem(s)" for b in r.update_branches
        )
        problems = "; ".join(p["message"] for p in r.problems)
        row = [r.name, r.ring, f"`{r.commit}`" if r.commit else "-", r.behind or "-", branches, checks, problems]
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    lines.append("")
    for s in summarise(repos):
        lines.append(
            f"- {s['release'] or 'no release'}: {plural(s['repositories'], 'repository', 'repositories')}, "
            f"{s['behind']} behind, "
            f"{plural(s['failing_update_branches'], 'failing update branch', 'failing update branches')}"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Standard library only: `python fleet/status.py` or `uv run fleet/status.py`. "
        "Keys of --json: see the docstring at the top of this file.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--repos", type=Path, help="a file of git URLs, one a line (`#` comments)")
    where.add_argument("--owner", default=os.environ.get("GITHUB_REPOSITORY_OWNER"),
                       help=f"GitHub owner whose repositories with the topic {TOPIC} are listed (gh)")  # fmt: skip
    parser.add_argument("--topic", default=TOPIC, help="the topic of the fleet; a topic TOPIC-RING names a ring")
    parser.add_argument("--canary", type=Path, help="a file of git URLs in the canary ring (any host)")
    parser.add_argument("--template", help="the template repository whose tags are its releases (default: origin)")
    parser.add_argument("--answers-file", default=ANSWERS_FILE)
    parser.add_argument("--renovate-prefix", default=RENOVATE_PREFIX, help="Renovate's branchPrefix")
    parser.add_argument("--rollout-prefix", default=ROLLOUT_PREFIX, help="fleet/rollout.sh's branches")
    parser.add_argument("--check-script", type=Path, default=CHECK_SCRIPT, help="check_template_sync.py to apply")
    parser.add_argument("--jobs", type=int, default=8, help="repositories read at once (default 8)")
    parser.add_argument("--json", action="store_true", help="print a JSON document instead of Markdown")
    args = parser.parse_args(argv)
    if not args.repos and not args.owner:
        parser.error("give --repos FILE or --owner OWNER")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    template = args.template
    if not template:
        origin = git("remote", "get-url", "origin")
        if origin.returncode:
            raise SystemExit("status.py: no --template, and this folder is no clone with an origin")
        template = origin.stdout.strip()
    tags = template_tags(template)
    latest = latest_release(tags)
    if args.repos:
        repos = [Repository(repo_name(url), url) for url in read_list(args.repos)]
    else:
        repos = github_fleet(args.owner, args.topic)
    canary = {same_url(url): url for url in read_list(args.canary)} if args.canary else {}
    keys = [same_url(repo.url) for repo in repos]
    for repo, key in zip(repos, keys, strict=True):
        if key in canary:
            repo.ring = "canary"
    listed = set(keys)
    for key, url in canary.items():
        if key not in listed:
            print(f"status.py: {url} (in {args.canary}) is none of the fleet's repositories", file=sys.stderr)
    opts = Options(frozenset(tags), latest, args.answers_file, args.renovate_prefix, args.rollout_prefix,
                   load_check(args.check_script))  # fmt: skip
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        done = sorted(pool.map(lambda r: inspect(r, opts), repos), key=lambda r: (r.name, r.url))
    if args.json:
        document = {"template": template, "latest": latest, "repositories": [asdict(r) for r in done],
                    "releases": summarise(done)}  # fmt: skip
        print(json.dumps(document, indent=2))
    else:
        print(markdown(template, latest, done), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
