"""check_template_sync.py: a template update with a conflict, a `.rej` file, Renovate's mark or a
source no updater can use never merges unnoticed (copier exits 0 on conflicts; Renovate commits them).

Each case is a small project written here; tests/test_fleet.py runs the script on real updates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from copier._vcs import get_repo  # copier's shortcut expansion, to compare the advice with

from scenarios import FLEET_PIN, FLEET_RELEASES, fleet_copy, matrix_case_answers
from support.config import TEMPLATE_ROOT, table
from support.proc import PYTHON, commit_new_repo, git, import_script, run, tool
from support.render import render_once
from support.updating import sync_check
from support.urls import TEMPLATE_URL

SCRIPT = TEMPLATE_ROOT / "template" / ".github" / "scripts" / "check_template_sync.py"
GOOD_ANSWERS = f"_commit: v1.0.0\n_src_path: {TEMPLATE_URL}\nproject_name: demo-pkg\n"
# A Markdown heading underlined with `=======` is not a conflict.
README = "Demo\n=======\n\nText.\n"


@pytest.fixture(scope="module")
def sync() -> ModuleType:
    return import_script(SCRIPT, "check_template_sync")


@pytest.fixture(autouse=True)
def outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain `error:` lines, as on a laptop, even when the suite itself runs in GitHub Actions."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def write_project(root: Path, files: dict[str, str]) -> Path:
    """A git repository holding `files`, committed (what a pull request's checkout has)."""
    root.mkdir()
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="utf-8")
    commit_new_repo(root, "project")
    return root


def run_check(sync: ModuleType, root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = sync.main(["--root", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_complete_update_passes(sync: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_project(tmp_path / "p", {".copier-answers.yml": GOOD_ANSWERS, "README.md": README})
    assert run_check(sync, root, capsys) == (
        0,
        "template update complete: no conflict, no .rej file, a source every updater can use\n",
        "",
    )


def test_a_build_file_of_your_own_passes(sync: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Sources moved and named as CMake and meson allow: any character in a file name, variables."""
    cmake = "add_library(x src/c++/core.cpp src/${GENERATED}.cpp)\nset(D src/*.c)\n"
    root = write_project(tmp_path / "p", {".copier-answers.yml": GOOD_ANSWERS, "README.md": README,
                                         "CMakeLists.txt": cmake, "src/c++/core.cpp": ""})  # fmt: skip
    assert run_check(sync, root, capsys)[0] == 0
    # meson's path join installs a module the text never spells out whole.
    meson = "pkg = 'src/acme'\npy.install_sources('src/acme/__init__.py', pkg / 'helpers.py', subdir: 'acme')\n"
    root = write_project(tmp_path / "m", {".copier-answers.yml": GOOD_ANSWERS, "meson.build": meson,
                                         "src/acme/__init__.py": "", "src/acme/helpers.py": ""})  # fmt: skip
    assert run_check(sync, root, capsys)[0] == 0


SHORTCUT_URL = get_repo("gh:ORG/pypi-template")
CASES = {
    "conflict-markers": (
        {"pyproject.toml": 'a = 1\n<<<<<<< before updating\nb = 2\n=======\nb = 3\n>>>>>>> after updating\n'},
        [
            "pyproject.toml:2: conflict marker '<<<<<<< before updating': resolve the conflict",
            "pyproject.toml:4: conflict marker '=======': resolve the conflict",
            "pyproject.toml:6: conflict marker '>>>>>>> after updating': resolve the conflict",
        ],
    ),
    # What a clean 3-way merge gave a project that had its own [tool.coverage.run] when a release
    # added the template's: the same table twice, no conflict, and copier exits 0.
    "duplicate-toml-table": (
        {"pyproject.toml": '[tool.coverage.run]\nbranch = true\n\n[tool.ruff]\nline-length = 100\n\n'
                           '[tool.coverage.run]\nsource_pkgs = ["acme"]\n'},
        ["pyproject.toml:7: not valid TOML: Cannot declare ('tool', 'coverage', 'run') twice (at line 7, column 19)"],
    ),
    # copier update --data command_name=acme wrote the entry; src/ is the user's, so no __main__.py.
    "script-without-its-module": (
        {"pyproject.toml": '[project]\nname = "acme"\n\n[project.scripts]\n"acme" = "acme.__main__:main"\n',
         "src/acme/__init__.py": ""},
        [("pyproject.toml:5: [project.scripts] acme = 'acme.__main__:main': src/acme/__main__.py does not exist; an "
          "update never writes into src/: add it (a main() returning the exit code)")],
    ),
    # copier update --data project_kind=extension wrote the build file; src/ is the user's.
    "extension-source-missing": (
        {"CMakeLists.txt": "project(acme LANGUAGES CXX)\n# src/_old.cpp was here\n"
                           "nanobind_add_module(_core src/_core.cpp)\n",
         "src/acme/__init__.py": ""},
        [("CMakeLists.txt:3: src/_core.cpp does not exist; an update never writes into src/: add it (a new copy "
          "with the same answers has it), or stop building it here")],
    ),
    "meson-sources-missing": (
        {"meson.build": "py.extension_module('_core', 'src/_core.c', subdir: 'acme')\npy.install_sources(\n"
                        "  'src/acme/__init__.py',\n  'src/acme/_core.pyi',\n)\n",
         "src/acme/__init__.py": ""},
        [f"meson.build:{n}: {path} does not exist; an update never writes into src/: add it (a new copy with "
         "the same answers has it), or stop building it here"
         for n, path in [(1, "src/_core.c"), (4, "src/acme/_core.pyi")]],
    ),
    # copier update --data command_name= stopped listing __main__.py, which the user kept for `python -m`.
    "meson-module-not-installed": (
        {"meson.build": "py.extension_module('_core', 'src/_core.c', subdir: 'acme')\n"
                        "py.install_sources(\n  'src/acme/__init__.py',\n  'src/acme/py.typed',\n)\n",
         "src/_core.c": "", "src/acme/__init__.py": "", "src/acme/__main__.py": "", "src/acme/py.typed": "",
         "src/tool.py": ""},
        [("meson.build:3: src/acme/__main__.py is not installed: meson-python puts only the files "
          "py.install_sources lists into the wheel and .venv; list it there, or delete it")],
    ),
    "git-diff3-markers": (
        {"ci.yml": "<<<<<<< HEAD\nx\n||||||| base\ny\n=======\nz\n>>>>>>> main\n"},
        [f"ci.yml:{n}: conflict marker {m!r}: resolve the conflict" for n, m in
         [(1, "<<<<<<< HEAD"), (3, "||||||| base"), (5, "======="), (7, ">>>>>>> main")]],
    ),
    "rej-file": (
        {".github/workflows/publish.yml.rej": "@@ -1 +1 @@\n-a\n+b\n"},
        [".github/workflows/publish.yml.rej: hunks copier could not apply: apply them by hand, then delete the file"],
    ),
    "renovate-mark": (
        {".copier-answers.yml": GOOD_ANSWERS + "#copier updated"},
        [(".copier-answers.yml:4: '#copier updated' is Renovate's mark: copier update failed in the bot; "
         "run it by hand (`copier update --defaults`) and commit the result")],
    ),
    "gh-shortcut": (
        {".copier-answers.yml": GOOD_ANSWERS.replace(TEMPLATE_URL, "gh:ORG/pypi-template")},
        [(".copier-answers.yml:2: _src_path 'gh:ORG/pypi-template' is copier's shortcut, which Renovate cannot "
         f"resolve: write the URL instead, `_src_path: {SHORTCUT_URL}`")],
    ),
    "relative-path": (
        {".copier-answers.yml": GOOD_ANSWERS.replace(TEMPLATE_URL, ".")},
        [(".copier-answers.yml:2: _src_path '.' is a relative path (resolved against the current folder): no bot, "
         "CI runner or other machine can update from it; write the template's URL, e.g. "
         "`_src_path: https://github.com/ORG/pypi-template.git`")],
    ),
    "absolute-path": (
        {".copier-answers.yml": GOOD_ANSWERS.replace(TEMPLATE_URL, "/home/ada/pypi-template")},
        [(".copier-answers.yml:2: _src_path '/home/ada/pypi-template' is a path on one machine: no bot, CI runner "
         "or other machine can update from it; write the template's URL, e.g. "
         "`_src_path: https://github.com/ORG/pypi-template.git`")],
    ),
    "describe-commit": (
        {".copier-answers.yml": GOOD_ANSWERS.replace("v1.0.0", "v1.0.0-3-g2504ef9")},
        [(".copier-answers.yml:1: _commit 'v1.0.0-3-g2504ef9' is a commit after the tag 'v1.0.0', not a release: "
         "Renovate never updates it; run `copier update --defaults --vcs-ref <release tag>` once")],
    ),
    "hash-commit": (
        {".copier-answers.yml": GOOD_ANSWERS.replace("v1.0.0", "2504ef9")},
        [(".copier-answers.yml:1: _commit '2504ef9' is a commit hash (copier's record of a commit no tag names), "
         "not a release tag such as v1.2.0: Renovate and `copier update` compare release tags; run "
         "`copier update --defaults --vcs-ref <release tag>` once")],
    ),
    # A hash in digits alone, quoted as copier writes it: a version to PEP 440, and so to Renovate.
    "digits-hash-commit": (
        {".copier-answers.yml": GOOD_ANSWERS.replace("v1.0.0", "'7878087'")},
        [(".copier-answers.yml:1: _commit '7878087' is a commit hash (copier's record of a commit no tag names), "
         "not a release tag such as v1.2.0: Renovate and `copier update` compare release tags; run "
         "`copier update --defaults --vcs-ref <release tag>` once")],
    ),
    "not-a-tag-commit": (
        {".copier-answers.yml": GOOD_ANSWERS.replace("v1.0.0", "main")},
        [(".copier-answers.yml:1: _commit 'main' is not a release tag such as v1.2.0: Renovate and `copier update` "
         "compare release tags; run `copier update --defaults --vcs-ref <release tag>` once")],
    ),
    "no-answers-file": (
        {"README.md": README, ".copier-answers.yml": None},
        [".copier-answers.yml: missing: copier update has nothing to update from"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("files", "expected"), CASES.values(), ids=CASES.keys())
def test_an_incomplete_update_fails_naming_file_and_line(
    sync: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str | None],
    expected: list[str],
) -> None:
    project = {".copier-answers.yml": GOOD_ANSWERS, "README.md": README, **files}
    root = write_project(tmp_path / "p", {name: text for name, text in project.items() if text is not None})
    code, out, err = run_check(sync, root, capsys)
    assert (code, out) == (1, "")
    summary = f"{len(expected)} problem(s): the template update is not complete"
    assert err.splitlines() == [f"error: {line}" for line in expected] + [summary]


def test_release_candidates_and_other_urls_are_usable(sync: ModuleType) -> None:
    for value in ["v1.2.0", "1.2.0", "v2.0.0rc1", "v1.0.0.post1"]:
        assert sync.commit_problem(value) is None, value
    for value in [TEMPLATE_URL, "git+https://gitlab.example/o/t.git",
                  "git@github.com:ORG/pypi-template.git", "ssh://git@host/o/t.git", "git+file:///srv/t"]:  # fmt: skip
        assert sync.source_problem(value) is None, value
    # Renovate's own check (a URL, or `user@host:path`) refuses every source the script refuses.
    for value in [".", "../pypi-template", "/srv/pypi-template", "~/pypi-template"]:
        assert sync.source_problem(value), value


def test_untracked_files_count_and_ignored_ones_do_not(
    sync: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What copier just wrote is checked before anyone commits it; conflict markers in what git
    ignores are never committed (a .rej is found anyway: see the next test)."""
    root = write_project(tmp_path / "p", {".copier-answers.yml": GOOD_ANSWERS, ".gitignore": "/build/\n"})
    (root / "new.yml.rej").write_text("@@\n", encoding="utf-8")
    (root / "build").mkdir()
    (root / "build" / "old.txt").write_text("<<<<<<< HEAD\n", encoding="utf-8")
    code, _, err = run_check(sync, root, capsys)
    assert code == 1, err
    assert "new.yml.rej: hunks" in err, err
    assert "build/" not in err, err


def test_without_git_every_file_is_checked(
    sync: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No git on PATH (a bare container): every file is read, as the docstring says, not a traceback."""
    root = write_project(tmp_path / "p", {".copier-answers.yml": GOOD_ANSWERS, "README.md": README})
    (root / "notes.txt").write_text("<<<<<<< before updating\n", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    code, _, err = run_check(sync, root, capsys)
    assert code == 1, err
    assert "notes.txt:1" in err, err


def test_leftovers_count_where_git_ignores_them_but_not_in_third_party_folders(
    sync: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """copier's .rej and a merge tool's .orig are found though a `*.rej` rule hides them from git;
    the ones installed distributions ship, in a virtual environment of any name, node_modules,
    .tox or .nox, are not the project's (copier writes nothing there)."""
    ignore = "*.rej\n*.orig\n/env/\n/.venv/\n/node_modules/\n/.tox/\n/.nox/\n"
    root = write_project(tmp_path / "p", {".copier-answers.yml": GOOD_ANSWERS, ".gitignore": ignore})
    for name in ["pyproject.toml.rej", "src/demo/core.py.orig", "env/pyvenv.cfg", ".venv/pyvenv.cfg",
                 "env/lib/python3.12/site-packages/pkg/setup.py.orig", ".venv/lib/pkg/a.py.rej",
                 "node_modules/pkg/index.js.rej", ".tox/py312/lib/x.py.orig", ".nox/tests/x.rej",
                 ".git/x.rej"]:  # fmt: skip
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("@@\n", encoding="utf-8")
    code, out, err = run_check(sync, root, capsys)
    hidden = " (git ignores it: `git status` does not list it)"
    assert (code, out, err.splitlines()) == (1, "", [
        f"error: pyproject.toml.rej: hunks copier could not apply: apply them by hand, then delete the file{hidden}",
        ("error: src/demo/core.py.orig: a backup from a merge tool or patch: "
         f"check the file beside it, then delete this one{hidden}"),
        "2 problem(s): the template update is not complete",
    ])  # fmt: skip


def test_annotations_on_github_actions(
    sync: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    root = write_project(tmp_path / "p", {".copier-answers.yml": GOOD_ANSWERS, "a.txt": "<<<<<<< before updating\n"})
    code, _, err = run_check(sync, root, capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        "::error file=a.txt,line=1,title=Template update::"
        "conflict marker '<<<<<<< before updating': resolve the conflict"
    )


@pytest.fixture(scope="module", params=["defaults", "scikit-build-core-extension", "meson-python-extension"])
def generated(request: pytest.FixtureRequest) -> Path:
    """The render matrix's renders (shared): the default library and each extension backend's."""
    return render_once(f"build-{request.param}", matrix_case_answers(request.param))


def test_without_a_toml_parser_it_says_what_it_did_not_check(
    sync: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """On Python 3.10 (no tomllib) the TOML checks cannot run: the script says so rather than pass silently."""
    monkeypatch.setitem(sys.modules, "tomllib", None)  # import tomllib raises ModuleNotFoundError, as on 3.10
    assert sync.toml_problems(tmp_path, "pyproject.toml", "[project\n") == []
    assert "pyproject.toml: not checked (the TOML checks need Python 3.11 or newer)" in capsys.readouterr().err


def test_ci_runs_it_on_every_pull_request(generated: Path) -> None:
    """The generated ci.yml runs the script as a step, on pull requests, and it is the template's copy."""
    ci = yaml.safe_load((generated / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert "pull_request" in ci[True]  # YAML 1.1 reads the key `on` as True
    steps = [(name, step) for name, job in ci["jobs"].items() for step in job["steps"]]
    (job,) = [name for name, step in steps if step.get("run") == "python .github/scripts/check_template_sync.py"]
    assert "if" not in ci["jobs"][job]
    assert (generated / ".github/scripts/check_template_sync.py").read_bytes() == SCRIPT.read_bytes()


def test_the_step_passes_on_a_new_project_and_fails_on_a_conflict(generated: Path, tmp_path: Path) -> None:
    """As the runner runs it: `python <file>` in the checkout, judged by its exit code."""
    project = tmp_path / "demo-pkg"
    subprocess.run(["cp", "-a", str(generated), str(project)], check=True)
    # As copied from a release tag of the template's URL (render_once copies from a plain folder).
    answers = project / ".copier-answers.yml"
    kept = [line for line in answers.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("_")]
    answers.write_text(kept[0] + GOOD_ANSWERS.split("project_name")[0] + "".join(kept[1:]), encoding="utf-8")
    assert yaml.safe_load(answers.read_text(encoding="utf-8"))["_commit"] == "v1.0.0"
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    step = [PYTHON, ".github/scripts/check_template_sync.py"]
    proc = subprocess.run(step, cwd=project, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    with (project / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write("<<<<<<< before updating\n")
    proc = subprocess.run(step, cwd=project, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "pyproject.toml:" in proc.stderr
    assert "conflict marker '<<<<<<< before updating'" in proc.stderr


@pytest.mark.slow  # one copier update
def test_a_rejected_hunk_git_ignores_still_fails(tmp_path: Path, run_gitconfig: Path) -> None:
    """`copier update --conflict rej` where git ignores `*.rej` (GitHub's Patch.gitignore, copied into
    many global ignores): the file keeps the template's line, the user's edit is only in the ignored
    .rej, and git shows nothing; the check must still fail, naming the .rej file."""
    project = shutil.copytree(fleet_copy("lib-setuptools", {}), tmp_path / "project", symlinks=True)
    ci = project / ".github" / "workflows" / "ci.yml"
    old_sha, user_sha = table("actions")[FLEET_PIN]["sha"], "fedcba9876543210fedcba9876543210fedcba98"
    ci.write_text(ci.read_text(encoding="utf-8").replace(old_sha, user_sha, 1), encoding="utf-8")  # a bot's bump
    git(project, "commit", "--quiet", "--all", "--message", "Bump checkout")
    excludes = tmp_path / "global-gitignore"
    excludes.write_text("*.rej\n*.orig\n", encoding="utf-8")
    config = tmp_path / "gitconfig"
    config.write_text(f"[include]\n\tpath = {run_gitconfig}\n[core]\n\texcludesFile = {excludes}\n", encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(config)}
    env.pop("GITHUB_ACTIONS", None)

    run(
        [tool("copier"), "update", "--defaults", "--conflict", "rej", "--vcs-ref", FLEET_RELEASES[1]],
        cwd=project,
        env=env,
    )
    # What docs/updating.md says rej mode leaves: the user's line is gone from ci.yml, kept only in
    # the .rej, and neither git status nor the unmerged list shows anything of it.
    rejected = project / ".github" / "workflows" / "ci.yml.rej"
    assert user_sha not in ci.read_text(encoding="utf-8")
    assert user_sha in rejected.read_text(encoding="utf-8")
    status = run(["git", "status", "--porcelain"], cwd=project, env=env).stdout
    assert " M .github/workflows/ci.yml" in status.splitlines(), status
    assert "ci.yml.rej" not in status, status
    assert run(["git", "diff", "--name-only", "--diff-filter=U"], cwd=project, env=env).stdout == ""

    proc = sync_check(project, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error: .github/workflows/ci.yml.rej: hunks copier could not apply" in proc.stderr, proc.stderr
    assert "(git ignores it: `git status` does not list it)" in proc.stderr
