"""Updating a generated project: what its user edits, copier's update as users run it, and what to check after."""

from __future__ import annotations

import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import copier
import yaml
from pathspec import PathSpec

from support.config import TEMPLATE_ROOT, load_copier_config
from support.proc import PYTHON, git, run, tool
from support.render import load_answers, project_files

WORKFLOW = ".github/workflows/publish.yml"
UPDATING_DOC = TEMPLATE_ROOT / "docs" / "updating.md"
ANSWERS_FILE = ".copier-answers.yml"
# What a user changes after the first copy.
USER_README_LINE = "Notes the maintainers wrote after the first copy."
USER_SOURCE_LINE = "ANSWER = 42  # the user's own code"
USER_DEPENDENCY = "requests>=2.31"
CONFLICT_MARKERS = ("<<<<<<< before updating", "=======", ">>>>>>> after updating")


def sync_check(project: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The project's own template-sync check, as its ci.yml runs it (outside GitHub Actions by default:
    plain `error:` lines)."""
    return subprocess.run(
        [PYTHON, ".github/scripts/check_template_sync.py"],
        cwd=project,
        env=env or {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def answers_of(project: Path) -> dict[str, Any]:
    """`project`'s recorded answers, without copier's own keys (_commit, _src_path)."""
    return {k: v for k, v in load_answers(project).items() if not k.startswith("_")}


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

    tests/test_documented_commands.py lists these lines in NOT_RUN: the update tests run them and check what they do.
    """
    lines = UPDATING_DOC.read_text(encoding="utf-8").splitlines()
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith(prefix)]


def update_api(project: Path, **kwargs: Any) -> None:
    """The API form of `copier update --defaults`, as safe as the CLI without --trust."""
    copier.run_update(project, overwrite=True, unsafe=False, defaults=True, quiet=True, **kwargs)


def workflow_steps(project: Path) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def user_owned(path: str) -> bool:
    """Whether `_skip_if_exists` names `path`, matched as copier matches it (gitignore patterns)."""
    spec = PathSpec.from_lines("gitignore", load_copier_config()["_skip_if_exists"])
    return spec.match_file(path)
