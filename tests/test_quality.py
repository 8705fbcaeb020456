"""Generated code is a product too: every Python file a render writes passes ruff, ruff format and
mypy --strict, on every variant and every Python the project supports; the release scripts the
workflows run use nothing newer than the oldest Python the template offers, and run there. Every
variant meets the Scientific Python development guidelines (sp-repo-review, with only the declared
ignores) and pyroma's packaging checks."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import copier
import pytest

from scenarios import VARIANTS, released_template, variant_project
from support.builds import build_once
from support.checkers import (
    PYROMA_NO_KEYWORDS,
    REPO_REVIEW_IGNORES,
    pyroma_rating,
    repo_review,
    repo_review_ignores,
    vermin,
)
from support.clients import mypy_cache, project_mypy_cache
from support.config import PYTHON_VERSIONS, TEMPLATE_ROOT, table
from support.envs import cache_dirs, dev_environment, find_python, install_into, required_python
from support.index import serve_index
from support.proc import commit_new_repo, run, tool
from support.render import load_answers, render_project
from support.sharing import shared_folder, shared_once

OLDEST, NEWEST = PYTHON_VERSIONS[0], PYTHON_VERSIONS[-1]


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(request: pytest.FixtureRequest) -> Path:
    return variant_project(request.param)


def python_files(project: Path) -> list[Path]:
    return sorted(p for p in [*project.rglob("*.py"), *project.rglob("*.pyi")] if ".git" not in p.parts)


def supported(project: Path) -> list[str]:
    match = re.search(
        r'^requires-python = ">=(3\.\d+)"$', (project / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE
    )
    assert match
    return PYTHON_VERSIONS[PYTHON_VERSIONS.index(match.group(1)) :]


def test_ruff_check_and_format_pass(project: Path) -> None:
    # The project's own configuration (pyproject.toml), as `ruff check` run in the project reads it.
    for command in (["check", "--no-cache", "--output-format", "concise"], ["format", "--no-cache", "--check"]):
        proc = subprocess.run([tool("ruff"), *command, "."], cwd=project, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_passes_on_the_oldest_and_newest_supported_python(project: Path) -> None:
    """`mypy` as the project runs it (its [tool.mypy] files and strict mode), at both ends of its range."""
    versions = supported(project)
    mypy = importlib.metadata.version("mypy")
    for version in sorted({versions[0], versions[-1]}):
        proc = subprocess.run(
            [tool("mypy"), "--python-version", version, "--cache-dir", str(mypy_cache(mypy, version))],
            cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"Python {version}:\n{proc.stdout}{proc.stderr}"
        checked = int(re.search(r"in (\d+) source files?", proc.stdout).group(1))  # type: ignore[union-attr]
        assert checked == len(python_files(project)), proc.stdout


def test_mypy_checks_every_generated_python_file(project: Path) -> None:
    """[tool.mypy] files names every folder that holds Python, the dot-folder .github/scripts included."""
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    (files,) = re.findall(r"^files = \[(.*)\]$", text, re.MULTILINE)
    listed = {name.strip().strip('"') for name in files.split(",")}
    assert {p.relative_to(project).parts[0] if p.parent != project / ".github" / "scripts" else ".github/scripts"
            for p in python_files(project)} == listed  # fmt: skip


def test_shebang_files_are_executable_and_only_they(project: Path) -> None:
    for path in python_files(project):
        has_shebang = path.read_bytes().startswith(b"#!")
        assert bool(path.stat().st_mode & 0o111) is has_shebang, path.relative_to(project)


def test_no_generated_file_starts_with_a_blank_line(project: Path) -> None:
    for path in sorted(p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts):
        assert not path.read_bytes().startswith((b"\n", b"\r\n")), path.relative_to(project)


def test_code_needs_nothing_newer_than_it_may(project: Path) -> None:
    """vermin reads every generated file for the features it uses (`--violations` lists newer ones).

    .github/scripts are the same in every project and run on every Python the template offers; the
    rest runs on the project's supported Pythons.
    """
    scripts = project / ".github" / "scripts"
    groups = [(OLDEST, [p for p in python_files(project) if p.parent == scripts]),
              (supported(project)[0], [p for p in python_files(project) if p.parent != scripts])]  # fmt: skip
    assert all(files for _, files in groups), groups
    for version, files in groups:
        proc = vermin(version, *files)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vermin_catches_a_newer_feature(tmp_path: Path) -> None:
    """The check above is live: an unconditional `import tomllib` needs 3.11."""
    script = tmp_path / "new.py"
    script.write_text("import tomllib\n", encoding="utf-8")
    proc = vermin("3.10", script)
    assert proc.returncode != 0, proc.stdout
    assert "tomllib" in proc.stdout, proc.stdout


# --- After an answer change ------------------------------------------------------------------


@pytest.mark.slow  # a copy and an update from a template repository, the dev group installed
@pytest.mark.parametrize("kind", ["library", "meta-package"])
def test_raising_python_min_keeps_ruff_and_mypy_passing(tmp_path: Path, kind: str) -> None:
    """docs/updating.md's answer change: an update never touches tests/, so what the template
    generated there must pass the checkers for any later python_min (no version branch for ruff's
    UP036 to flag once the old Python is gone)."""
    # A meta-package's extras given (empty): the default would be refused, a meta-package that installs nothing.
    data = {"python_min": OLDEST, "project_kind": kind, **({"extras": {}} if kind == "meta-package" else {})}
    project = render_project(tmp_path / "demo-pkg", data, src=released_template("v1.0.0"))
    commit_new_repo(project, "Generate from pypi-template")
    newer = PYTHON_VERSIONS[1]
    copier.run_update(project, data={"python_min": newer}, defaults=True, overwrite=True, unsafe=False, quiet=True)
    assert f'requires-python = ">={newer}"' in (project / "pyproject.toml").read_text(encoding="utf-8")
    bin_dir = dev_environment(project)
    env = {**os.environ, "MYPY_CACHE_DIR": str(project_mypy_cache(project))}
    for command in (
        ["ruff", "check", "--no-cache", "--output-format", "concise", "."],
        ["ruff", "format", "--no-cache", "--check", "."],
        ["mypy"],
    ):
        proc = subprocess.run(
            [bin_dir / command[0], *command[1:]], cwd=project, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"{' '.join(command)}:\n{proc.stdout}{proc.stderr}"


# Skipped by sp-repo-review itself: pre-commit.ci's settings, since Dependabot updates the hooks,
# and RF003 (ruff's `src` setting) where there is no src/ folder (a meta-package).
REPO_REVIEW_SKIPS = {"PC901", "PC902", "PC903"}


def test_repo_review_fails_nothing_and_ignores_only_the_declared_checks(project: Path) -> None:
    results = repo_review(project)
    failed = {name: r["err_msg"] for name, r in results.items() if r["result"] is False}
    assert failed == {}
    ignored = {name: r["skip_reason"] for name, r in results.items() if r["skip_reason"]}
    assert set(ignored) == repo_review_ignores(load_answers(project)["docs_site"]), ignored
    assert all(ignored.values()), ignored
    skipped = {name for name, r in results.items() if r["result"] is None and not r["skip_reason"]}
    assert skipped == REPO_REVIEW_SKIPS | (set() if (project / "src").is_dir() else {"RF003"})
    declared = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["repo-review"]["ignore"]
    assert declared == ignored  # the reason repo-review prints is the one pyproject.toml gives
    assert len(results) - len(ignored) - len(skipped) >= 50  # the checks ran (53 passed when written)


def test_repo_review_ignores_are_recorded_as_decisions() -> None:
    section = (
        (TEMPLATE_ROOT / "docs" / "decisions.md")
        .read_text(encoding="utf-8")
        .split("### repo-review", 1)[1]
        .split("\n##", 1)[0]
    )
    assert {code for code in REPO_REVIEW_IGNORES if f"`{code}`" in section} == REPO_REVIEW_IGNORES


def test_repo_review_catches_a_missing_setting(tmp_path: Path) -> None:
    """The check above is live: without the ignores and strict xfail, those checks fail."""
    project = variant_project("library-default")
    copy = shutil.copytree(project, tmp_path / project.name)
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8").replace("strict_xfail = true\n", "")
    pyproject.write_text(text.split("[tool.repo-review.ignore]")[0], encoding="utf-8")
    failed = {name for name, r in repo_review(copy).items() if r["result"] is False}
    assert failed == REPO_REVIEW_IGNORES | {"PP305"}


@pytest.mark.slow  # installs pyroma beside the build backends, once per run
def test_pyroma_rates_ten(project: Path, tmp_path: Path) -> None:
    """10/10; 9/10 with keywords left empty (the default), and then that is the only finding."""
    rating, findings = pyroma_rating(project, tmp_path)
    keywords = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["keywords"]
    assert (rating, findings) == ((10, []) if keywords else (9, [PYROMA_NO_KEYWORDS]))


def test_each_python_is_looked_for_once_per_process() -> None:
    """find_python probes PATH, pyenv and uv (subprocesses) once per version; every later caller,
    required_python's too, gets the same answer for free."""
    assert required_python(OLDEST) is find_python(OLDEST) is find_python(OLDEST)


@pytest.fixture(scope="module")
def oldest_tools() -> Path:
    """A CPython-OLDEST environment with what the workflows install before running the scripts."""
    oldest = required_python(OLDEST)

    def make(root: Path) -> None:
        run([tool("uv"), "venv", "--quiet", "--seed", "--python", oldest, root])
        install_into(root / "bin" / "python", *table("release_tools"), extra_args=("--compile-bytecode",))

    return (
        shared_once(shared_folder() / f"python-{OLDEST}-release-tools", make, inputs=table("release_tools"))
        / "bin"
        / "python"
    )


@pytest.mark.slow
def test_release_scripts_run_on_the_oldest_offered_python(oldest_tools: Path, tmp_path: Path) -> None:
    """The scripts as the workflows run them, on CPython 3.10 with the release tools installed."""
    project, dists = build_once(f"oldest-python-{OLDEST}", {"python_min": OLDEST, "build_backend": "uv-build"})
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    guard = subprocess.run(
        [oldest_tools, ".github/scripts/check_release_version.py", "--tag", "v0.1.0", "--dist", dists.wheel.parent],
        cwd=project, capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    assert guard.returncode == 0, guard.stderr
    assert "release tag 'v0.1.0' matches version '0.1.0'" in guard.stdout, guard.stderr
    # Without tomli (-S: no site-packages), the guard says what to install instead of a traceback.
    bare = subprocess.run(
        [required_python(OLDEST), "-S", ".github/scripts/check_release_version.py", "--dist", dists.wheel.parent],
        cwd=project, capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    no_tomli = f"error: Python {OLDEST} reads pyproject.toml with tomli, which is not installed: pip install build"
    assert (bare.returncode, bare.stderr) == (
        1,
        f"{no_tomli} (it brings tomli), or run the script on Python 3.11 or later\n",
    )
    # The verify script end to end: the index's hashes, a fresh environment, the running pip, import.
    with serve_index() as index:
        index.publish(dists.sdist, dists.wheel)
        verify = subprocess.run(
            [oldest_tools, project / ".github/scripts/verify_upload.py", "--index-url", index.simple,
             "--deps-index-url", index.simple, "--project", "demo-pkg", "--version", "0.1.0",
             "--dist", dists.wheel.parent, "--import", "demo_pkg", "--attempts", "1"],
            cwd=tmp_path, capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"demo-pkg==0.1.0 verified on {index.simple}: OK" in verify.stdout
    assert f"/files/{dists.wheel.name}" in index.log
    # The release check runs start to end under the oldest Python, with the project's own tools.
    work = shutil.copytree(project, tmp_path / "project")
    shutil.rmtree(work / "dist")
    check = subprocess.run(
        [oldest_tools, "scripts/release_check.py"], cwd=work, capture_output=True, text=True, check=False,
        env={**env, "HOME": str(tmp_path), **cache_dirs()},
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASS  ") == 7, check.stdout
    assert "FAIL" not in check.stdout, check.stdout
