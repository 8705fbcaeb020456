#!/usr/bin/env python3
"""Refuse a template update that is not complete, before it is merged.

`copier update` exits 0 when it leaves conflicts, and Renovate commits whatever copier left. This
check fails (exit 1), naming each file and line, on:

- conflict markers (`<<<<<<< before updating`, `=======`, `>>>>>>> after updating`, or git's);
- `*.rej` files (hunks copier could not apply) and `*.orig` backups (`git mergetool`, `patch`),
  found on disk even where git ignores them (many global ignores list `*.rej` and `*.orig`),
  except in folders the template renders nothing into (see SKIPPED_FOLDERS);
- the `#copier updated` line Renovate appends to the answers file, left there when copier failed;
- a `_src_path` or `_commit` in the answers file that no updater can use: a `gh:`/`gl:` shortcut
  or a path instead of a URL, a commit that is not a release tag;
- a TOML file the merge left unparsable (Python 3.11+): git merges TOML as text, so a table you
  and a template release both add (say `[tool.coverage.run]`) appears twice, with no conflict;
- a `[project.scripts]` entry whose module is not under src/ (Python 3.11+): an update that turns a
  console script on writes the entry, but src/ is yours, so its module is yours to add;
- a file under src/ that an extension's build file (CMakeLists.txt, meson.build) compiles or
  installs and that does not exist: an update that makes a project an extension, or moves it to
  the other extension backend, writes the build file, never src/; and a Python file beside the
  ones meson.build installs that it does not list, which no wheel would hold.

Standard library only (Python 3.10+). ci.yml runs it on every pull request:

    python .github/scripts/check_template_sync.py
    python .github/scripts/check_template_sync.py --answers-file .copier-answers.yml
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ANSWERS_FILE = ".copier-answers.yml"
# Renovate's copier manager appends this line before it runs copier; copier's rewrite drops it.
RENOVATE_MARK = "#copier updated"
# Seven marker characters alone or before a space: git's and copier's conflict markers.
MARKER = re.compile(r"^(<{7}|>{7}|\|{7})( |$)")
SEPARATOR = "======="
# A release tag: a PEP 440 public version, optionally after a `v` (v1.2.0, 1.2.0rc1).
RELEASE_TAG = re.compile(
    r"v?([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
    r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?",
)
# `git describe` of a commit after a tag: v1.0.0-3-g1a2b3c4.
DESCRIBE = re.compile(r".+-[0-9]+-g[0-9a-f]{4,40}")
# What copier records when no tag names the commit it copied (`git describe --always`): a hash,
# which in digits alone (7878087) would pass as a version.
COMMIT_HASH = re.compile(r"[0-9a-f]{7,40}")
# Sources both copier and Renovate resolve: a URL of these schemes, or scp-like `user@host:path`.
URL = re.compile(r"((git\+)?(https?|ssh|git|file)://\S+|[\w.-]+@[\w.-]+:\S+)")
SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
# Left beside a file by `copier update --conflict rej` (and copier#2386), git mergetool or patch.
LEFTOVERS = {
    ".rej": "hunks copier could not apply: apply them by hand, then delete the file",
    ".orig": "a backup from a merge tool or patch: check the file beside it, then delete this one",
}
# Folders copier never writes into, full of third-party files (installed distributions ship
# .orig and .rej files of their own), and the slow part of a walk; virtual environments of any
# name (they hold pyvenv.cfg) are skipped too.
SKIPPED_FOLDERS = {".git", "node_modules", ".tox", ".nox"}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int  # 0: the file as a whole
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


def project_files(root: Path) -> list[str]:
    """Every file git would commit (tracked, or untracked and not ignored), else every file."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except OSError:  # no git on PATH
        proc = None
    if proc is not None and proc.returncode == 0:
        names = proc.stdout.decode("utf-8", errors="surrogateescape").split("\0")
        return sorted({name for name in names if name and (root / name).is_file()})
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )


def leftover_files(root: Path) -> list[str]:
    """Every `*.rej` and `*.orig` below `root`, ignored by git or not, outside SKIPPED_FOLDERS."""
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(
            name
            for name in folders
            if name not in SKIPPED_FOLDERS and not Path(folder, name, "pyvenv.cfg").is_file()
        )
        found += [
            Path(folder, name).relative_to(root).as_posix()
            for name in files
            if name.endswith(tuple(LEFTOVERS))
        ]
    return sorted(found)


def read_lines(path: Path) -> list[str] | None:
    """The file's lines, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def conflict_markers(name: str, lines: list[str]) -> list[Problem]:
    """Conflict markers; `=======` only between markers (alone it is a Markdown heading line)."""
    problems = []
    inside = False
    for number, line in enumerate(lines, start=1):
        if MARKER.match(line):
            inside = not line.startswith(">")
        elif not (inside and line == SEPARATOR):
            continue
        problems.append(Problem(name, number, f"conflict marker {line!r}: resolve the conflict"))
    return problems


def answer(lines: list[str], key: str) -> tuple[int, str] | None:
    """(line number, value) of a top-level `key: value` of the answers file, unquoted."""
    for number, line in enumerate(lines, start=1):
        if line.startswith(f"{key}:"):
            value = line[len(key) + 1 :].strip()
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1].replace("''", "'")
            elif len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return number, value
    return None


def source_problem(value: str) -> str | None:
    """Why no updater can use `_src_path`, or None when copier and Renovate both resolve it."""
    for shortcut, host in SHORTCUTS.items():
        if value.startswith(shortcut):
            path = value[len(shortcut) :].lstrip("/")
            url = f"{host}{path}" if path.endswith(".git") else f"{host}{path}.git"
            return (
                f"_src_path {value!r} is copier's shortcut, which Renovate cannot resolve: "
                f"write the URL instead, `_src_path: {url}`"
            )
    if URL.fullmatch(value):
        return None
    if value.startswith(("/", "~")):
        where = "a path on one machine"
    else:
        where = "a relative path (resolved against the current folder)"
    return (
        f"_src_path {value!r} is {where}: no bot, CI runner or other machine can update from it; "
        "write the template's URL, e.g. `_src_path: https://github.com/ORG/pypi-template.git`"
    )


def commit_problem(value: str) -> str | None:
    """Why no updater can update from `_commit`, or None for a release tag."""
    fix = "run `copier update --defaults --vcs-ref <release tag>` once"
    if COMMIT_HASH.fullmatch(value):
        what = "a commit hash (copier's record of a commit no tag names), not a release tag"
    elif RELEASE_TAG.fullmatch(value):
        return None
    elif DESCRIBE.fullmatch(value):
        tag = value.rsplit("-", 2)[0]
        return (
            f"_commit {value!r} is a commit after the tag {tag!r}, not a release: "
            f"Renovate never updates it; {fix}"
        )
    else:
        what = "not a release tag"
    return (
        f"_commit {value!r} is {what} such as v1.2.0: "
        f"Renovate and `copier update` compare release tags; {fix}"
    )


def answers_problems(name: str, lines: list[str]) -> list[Problem]:
    problems = []
    for number, line in enumerate(lines, start=1):
        if line.strip() == RENOVATE_MARK:
            problems.append(
                Problem(
                    name,
                    number,
                    f"{RENOVATE_MARK!r} is Renovate's mark: copier update failed in the bot; run it "
                    "by hand (`copier update --defaults`) and commit the result",
                )
            )
    for key, check in (("_src_path", source_problem), ("_commit", commit_problem)):
        found = answer(lines, key)
        if found is None:
            problems.append(Problem(name, 1, f"no {key}: copier update cannot work without it"))
        elif (message := check(found[1])) is not None:
            problems.append(Problem(name, found[0], message))
    return problems


def toml_problems(root: Path, name: str, text: str) -> list[Problem]:
    """A TOML file that no longer parses, at the line the parser names; in pyproject.toml, a
    console script whose module src/ does not have."""
    try:
        toml = importlib.import_module("tomllib")
    except ModuleNotFoundError:  # Python 3.10 has no TOML parser in the standard library: say so
        print(f"{name}: not checked (the TOML checks need Python 3.11 or newer)", file=sys.stderr)
        return []
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+)", str(error))
        return [Problem(name, int(found.group(1)) if found else 0, f"not valid TOML: {error}")]
    if name != "pyproject.toml" or not (root / "src").is_dir():
        return []
    problems = []
    lines = text.splitlines()
    scripts = data.get("project", {}).get("scripts", {})
    for script, target in scripts.items() if isinstance(scripts, dict) else ():
        module = root.joinpath("src", *str(target).split(":")[0].strip().split("."))
        if module.with_suffix(".py").is_file() or module.is_dir():  # a module or a package
            continue
        key = re.compile(rf"""\s*["']?{re.escape(script)}["']?\s*=""")
        line = next((i for i, text_line in enumerate(lines, 1) if key.match(text_line)), 0)
        missing = module.relative_to(root).as_posix() + ".py"
        message = (
            f"[project.scripts] {script} = {target!r}: {missing} does not exist; an update"
            " never writes into src/: add it (a main() returning the exit code)"
        )
        problems.append(Problem(name, line, message))
    return problems


BUILD_FILES = ("CMakeLists.txt", "meson.build")
# A path under src/ as a build file spells it: a whole token, bare or quoted.
SOURCE = re.compile(r"""(?<![^\s'"(,\[])src/[^\s'"(),\]]+""")


def build_file_problems(root: Path, name: str, lines: list[str], files: list[str]) -> list[Problem]:
    """Each path under src/ that the build file names (outside comments) and that does not exist;
    for meson.build, each Python file beside the ones it installs that it does not install."""
    problems = []
    named: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        for path in SOURCE.findall(line.split("#", 1)[0]):
            named.setdefault(path, number)
            # A variable or a pattern (${DIR}, @VAR@, *.c) names no one file: not checked.
            if not any(c in path for c in "$@{*?") and not (root / path).exists():
                message = (
                    f"{path} does not exist; an update never writes into src/: add it (a new copy"
                    " with the same answers has it), or stop building it here"
                )
                problems.append(Problem(name, number, message))
    if name == "meson.build":
        problems += uninstalled_modules(name, lines, named, files)
    return problems


def uninstalled_modules(
    name: str, lines: list[str], named: dict[str, int], files: list[str]
) -> list[Problem]:
    """Each Python file beside the ones meson.build installs that it does not install: meson-python
    puts only what py.install_sources lists in the wheel (say the console script's module, which an
    update that turns the command off stops listing)."""
    # Outside comments and quoted strings, a "/" is meson's path join (a folder / a name): the paths
    # installed are then computed, and which files are left out cannot be read off the text.
    if any("/" in re.sub(r"'[^']*'", "", line.split("#", 1)[0]) for line in lines):
        return []
    first_line: dict[str, int] = {}  # each folder of a listed module: where the listing starts
    for path, number in named.items():
        if path.endswith((".py", ".pyi")):
            first_line.setdefault(path.rsplit("/", 1)[0], number)
    return [
        Problem(
            name,
            first_line[path.rsplit("/", 1)[0]],
            f"{path} is not installed: meson-python puts only the files py.install_sources"
            " lists into the wheel and .venv; list it there, or delete it",
        )
        for path in files
        if path.endswith((".py", ".pyi"))
        and path not in named
        and path.rsplit("/", 1)[0] in first_line
    ]


def check(root: Path, answers_file: str = ANSWERS_FILE) -> list[Problem]:
    """Every problem in the project at `root`, in file and line order."""
    files = project_files(root)
    problems = []
    if answers_file not in files:
        problems.append(
            Problem(answers_file, 0, "missing: copier update has nothing to update from")
        )
    for name in leftover_files(root):
        message = LEFTOVERS[Path(name).suffix]
        if name not in files:  # said, or the user looks for it in `git status` in vain
            message += " (git ignores it: `git status` does not list it)"
        problems.append(Problem(name, 0, message))
    for name in files:
        if name.endswith(tuple(LEFTOVERS)):
            continue  # reported whole above (a mergetool backup holds the conflict markers)
        lines = read_lines(root / name)
        if lines is None:
            continue
        markers = conflict_markers(name, lines)
        problems += markers
        if name.endswith(".toml") and not markers:  # markers say more than the parser would
            problems += toml_problems(root, name, "\n".join(lines))
        if name in BUILD_FILES and not markers:
            problems += build_file_problems(root, name, lines, files)
        if name == answers_file:
            problems += answers_problems(name, lines)
    return sorted(problems, key=lambda problem: (problem.path, problem.line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers-file", default=ANSWERS_FILE, help="copier's answers file")
    parser.add_argument("--root", type=Path, default=Path(), help="the project folder")
    args = parser.parse_args(argv)
    problems = check(args.root, args.answers_file)
    actions = os.environ.get("GITHUB_ACTIONS") == "true"
    for problem in problems:
        if actions:  # an annotation on the pull request's file and line
            where = f"file={problem.path}" + (f",line={problem.line}" if problem.line else "")
            print(f"::error {where},title=Template update::{problem.message}", file=sys.stderr)
        else:
            print(f"error: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): the template update is not complete", file=sys.stderr)
        return 1
    print("template update complete: no conflict, no .rej file, a source every updater can use")
    return 0


if __name__ == "__main__":
    sys.exit(main())
