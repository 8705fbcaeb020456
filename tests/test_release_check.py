"""The generated scripts/release_check.py: its checks fail clearly (a broken README, an unsafe or
committed ~/.pypirc, a version PyPI would refuse), it installs without uv, its command and uploads
are the ones RELEASING.md documents, and its tools are the tested ones.

The manual release it starts, rehearsed end to end against real indexes, is tests/test_rehearsal.py.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from scenarios import FASTEST_BACKEND, REHEARSAL_CASES, REHEARSAL_EXTRAS, matrix_case_answers
from support.builds import build_dists
from support.config import TEMPLATE_ROOT
from support.pages import console_blocks
from support.proc import git
from support.release_check import STEPS, load_script, release_check, step_results
from support.render import render_once
from support.wheels import metadata_wheel
from support.workflows import action_repo, load_yaml, steps

# PEP 723's reference regular expression for `# /// script` blocks.
SCRIPT_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


# --- The release check fails clearly -------------------------------------------------------
def break_readme_with_invalid_rst(project: Path) -> None:
    (project / "README.md").unlink()
    (project / "README.rst").write_text("Title\n=====\n\nAn `unclosed interpreted text role.\n", encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace('"README.md"', '"README.rst"'), encoding="utf-8")


def drop_readme(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert 'readme = "README.md"\n' in text
    pyproject.write_text(text.replace('readme = "README.md"\n', ""), encoding="utf-8")


def fast_project(case: str, tmp_path: Path) -> Path:
    """A writable copy of the case rendered with the fastest backend, without extras (rendered once per run).

    No extras: the meta-package's install step would resolve them on PyPI (the rehearsal covers them).
    """
    data = {**REHEARSAL_CASES[case], **FASTEST_BACKEND, **({"extras": {}} if case == "meta" else {})}
    name = REHEARSAL_CASES[case]["project_name"]
    return shutil.copytree(render_once(f"rehearsal-fast-{case}", data, name=name), tmp_path / name)


@pytest.mark.slow
def test_release_check_fails_on_invalid_rst(tmp_path: Path) -> None:
    """Invalid reStructuredText fails twine's renderer even without --strict; stale builds go first."""
    project = fast_project("library", tmp_path)
    (project / "dist").mkdir()
    (project / "dist" / "stale-0.0.1.tar.gz").write_bytes(b"an old build")
    break_readme_with_invalid_rst(project)
    home = tmp_path / "home"
    home.mkdir()
    proc = release_check(project, home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert step_results(proc.stdout) == {**dict.fromkeys(STEPS, "PASS"), "twine check": "FAIL"}, proc.stdout
    assert "PASS  clean           removed dist/" in proc.stdout
    assert "stale-0.0.1" not in proc.stdout
    assert "FAIL  twine check     twine check --strict failed" in proc.stdout
    assert "has syntax errors in markup" in proc.stdout
    assert proc.stdout.rstrip().endswith("1 of 7 steps FAILED: fix them and run the check again; upload nothing yet.")
    assert "twine upload" not in proc.stdout


@pytest.mark.slow
def test_release_check_reports_every_failure_in_one_round(tmp_path: Path) -> None:
    """A ~/.pypirc others can read and a missing readme (a warning, so this proves --strict): both FAIL,
    every other step still runs, and nothing is offered for upload."""
    project = fast_project("meta", tmp_path)
    drop_readme(project)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(project / ".pypirc.example", home / ".pypirc")
    (home / ".pypirc").chmod(0o644)
    proc = release_check(project, home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert step_results(proc.stdout) == {
        **dict.fromkeys(STEPS, "PASS"),
        "credentials": "FAIL",
        "twine check": "FAIL",
    }, proc.stdout
    assert "FAIL  credentials     upload credentials are not safe" in proc.stdout
    assert "~/.pypirc has mode 644: it holds API tokens and must be private;" in proc.stdout
    assert "fix it with `chmod 600 ~/.pypirc`" in proc.stdout
    assert "`long_description_content_type` missing" in proc.stdout
    assert proc.stdout.rstrip().endswith("2 of 7 steps FAILED: fix them and run the check again; upload nothing yet.")
    assert "twine upload" not in proc.stdout


@pytest.mark.slow
def test_install_step_without_uv_uses_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pipx run` or a plain `python` may have no uv: the wheel goes in with the running pip."""
    project = fast_project("library", tmp_path)
    build_dists(project)
    script = load_script(project)
    # A machine without uv: no `uv` package to import (None in sys.modules: not importable), none on PATH.
    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("UV", raising=False)
    assert script.uv_binary() is None
    result = script.install()
    assert result.ok, result.details
    assert result.summary.startswith("imported rehearsal_lib from rehearsal-lib 0.1.0 installed in a throwaway")
    assert result.details[0] == "installed rehearsal-lib 0.1.0"
    # Imported from the throwaway environment, never from the project's src/.
    throwaway = r"import rehearsal_lib: .*/release-check-[^/]*/venv/.*/site-packages/rehearsal_lib/__init__\.py"
    assert re.fullmatch(throwaway, result.details[1])


# --- Fast checks of the generated files (no build, no server) ---------------------------------
@pytest.fixture(scope="module")
def rendered() -> dict[str, Path]:
    """Rendered once per run; tests that change a project copy it first."""
    return {
        "library": render_once("rehearsal-library", {}, name="demo-lib"),
        "meta": render_once(
            "rehearsal-meta", {"project_kind": "meta-package", "extras": REHEARSAL_EXTRAS}, name="demo-meta"
        ),
        "no-testpypi": render_once("rehearsal-no-testpypi", {"use_testpypi": False}, name="demo-direct"),
        # The render matrix's, shared: scikit-build-core with its stable ABI on.
        "extension": render_once(
            "build-scikit-build-core-extension", matrix_case_answers("scikit-build-core-extension")
        ),
    }


@pytest.mark.parametrize(("case", "indexes"), [("library", ["pypi", "testpypi"]), ("no-testpypi", ["pypi"])])
def test_pypirc_example_is_a_twine_config_with_placeholders(
    rendered: dict[str, Path], case: str, indexes: list[str]
) -> None:
    config = configparser.ConfigParser()
    config.read(rendered[case] / ".pypirc.example", encoding="utf-8")
    assert config["distutils"]["index-servers"].split() == indexes
    assert config.sections() == ["distutils", *indexes]
    if "testpypi" in indexes:
        assert config["testpypi"]["repository"] == "https://test.pypi.org/legacy/"
    assert "repository" not in config["pypi"]  # twine's default: https://upload.pypi.org/legacy/
    for section in indexes:
        assert config[section]["username"] == "__token__"
        password = config[section]["password"]
        # A real token is "pypi-" and a base64 macaroon ("AgE…"): never ship one that looks real.
        assert password.startswith("pypi-REPLACE-WITH-")
        assert not re.match(r"pypi-AgE", password)


def test_gitignore_keeps_pypirc_but_not_its_example(rendered: dict[str, Path], tmp_path: Path) -> None:
    project = shutil.copytree(rendered["library"], tmp_path / "project")
    git(project, "init", "--quiet")
    assert git(project, "check-ignore", ".pypirc") == ".pypirc"
    example = subprocess.run(["git", "check-ignore", ".pypirc.example"], cwd=project, capture_output=True, check=False)
    assert example.returncode == 1, example  # 1: not ignored, so the example is committed


@pytest.mark.parametrize("case", ["library", "meta", "no-testpypi"])
def test_release_check_command_is_the_one_documented(rendered: dict[str, Path], case: str) -> None:
    project = rendered[case]
    script = load_script(project)
    (command,) = [line.strip() for line in (script.__doc__ or "").splitlines() if line.startswith("    ")]
    assert command == "uv run scripts/release_check.py"
    # README.md is the PyPI page, for users: release steps are for maintainers, in RELEASING.md.
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "release_check" not in readme
    assert "RELEASING" not in readme
    releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
    manual = releasing[releasing.index("\n## Manual release\n") :]
    assert "\n## " not in manual[1:], "Manual release must stay the last section"
    assert f"\n{command}\n" in manual
    # Every upload the script prints is in RELEASING.md, in the same order.
    commands = script.upload_commands(local_config=False)
    positions = [manual.index(f"   {c}\n") for c in commands]
    assert positions == sorted(positions)
    uses_testpypi = case != "no-testpypi"
    assert len(commands) == (2 if uses_testpypi else 1)
    assert ("--repository testpypi" in manual) is uses_testpypi
    assert "--config-file .pypirc" in manual
    local = script.upload_commands(local_config=True)
    assert local[-1] == "uvx twine upload --config-file .pypirc --repository pypi dist/*"


def test_an_extensions_manual_release_uploads_the_workflows_files(rendered: dict[str, Path]) -> None:
    """A local build of an extension is one platform's wheel: the release check offers no upload of
    it, and RELEASING.md's manual path uploads the files of the publish.yml run instead."""
    project = rendered["extension"]
    assert load_script(project).upload_commands(local_config=False) == []
    assert load_script(rendered["library"]).upload_commands(local_config=False) != []
    manual = (project / "RELEASING.md").read_text(encoding="utf-8").split("\n## Manual release\n")[1]
    blocks = console_blocks(manual)
    assert "uv run scripts/release_check.py\n" not in blocks
    # The artifact the publish jobs upload, from the run, into an empty dist/; then the usual uploads.
    jobs = load_yaml(project / ".github" / "workflows" / "publish.yml")["jobs"]
    uploaded = {
        step["with"]["name"]
        for job in ("publish-testpypi", "publish-pypi")
        for step in steps(jobs[job])
        if action_repo(step) == "actions/download-artifact"
    }
    assert uploaded == {"dist"}
    download = blocks.index("rm -rf dist\ngh run download RUN_ID --name dist --dir dist\n")
    assert download < blocks.index("uvx twine upload --repository testpypi dist/*\n")
    assert [b for b in blocks if "twine upload" in b] == [
        "uvx twine upload --repository testpypi dist/*\n",
        "uvx twine upload --repository pypi dist/*\n",
    ]
    files = manual.split("\n### The release files\n")[1].split("\n### ")[0]
    assert "abi3audit" in files  # the checks the run's build job made, stable ABI on
    library = (rendered["library"] / "RELEASING.md").read_text(encoding="utf-8")
    assert "gh run download" not in library


@pytest.mark.parametrize("case", ["scikit-build-core-extension", "meson-python-extension"])
def test_an_extensions_documents_never_release_what_its_release_check_builds(case: str) -> None:
    """An extension's release check builds this machine's wheel, never the release: no sentence of
    RELEASING.md or CONTRIBUTING.md that names the check has it make or precede a manual upload."""
    project = render_once(f"build-{case}", matrix_case_answers(case))  # the render matrix's, shared
    assert load_script(project).upload_commands(local_config=False) == []
    said = []
    for name in ("RELEASING.md", "CONTRIBUTING.md"):
        text = " ".join((project / name).read_text(encoding="utf-8").split())
        said += [s for s in re.split(r"(?<=[.;])\s", text) if "release_check.py" in s]
    assert len(said) >= 3, said
    assert [s for s in said if re.search(r"[Mm]anual|files come from `uv run", s)] == []


@pytest.mark.parametrize("case", ["defaults", "hatchling-git-tag"])
def test_readme_advice_waits_only_for_steps_that_can_pass_before_the_tag(case: str) -> None:
    """RELEASING.md's fix for an unrenderable README reruns the release check: untagged, a git-tag
    library's `version` step fails whatever the README says, so the advice waits for the step
    that checks the README and says the version step waits for the tag."""
    project = render_once(f"build-{case}", matrix_case_answers(case))  # the render matrix's, shared
    script = load_script(project)
    text = " ".join((project / "RELEASING.md").read_text(encoding="utf-8").split())
    advice = text.split("### `The description failed to render`")[1].split(" ### ")[0]
    named = re.findall(r"`([a-z ]+)` step", advice)
    assert set(named) <= {name for name, _, _ in script.STEPS}, named
    assert named[0] == "twine check"
    assert ("version" in named) == (case != "defaults"), advice
    assert "until it passes" not in advice


def test_releasing_verifies_testpypi_without_extra_index(rendered: dict[str, Path]) -> None:
    manual = (rendered["library"] / "RELEASING.md").read_text(encoding="utf-8").split("\n## Manual release\n")[1]
    pip = "/tmp/verify-testpypi/bin/python -m pip install --no-cache-dir"
    # Only the wheel from TestPyPI: building its sdist would fetch build dependencies from there.
    assert (
        f'{pip} --no-deps --only-binary :all: --index-url https://test.pypi.org/simple/ "demo-lib==X.Y.Z"\n' in manual
    )
    assert f'{pip} "demo-lib==X.Y.Z"\n' in manual  # then the dependencies, from PyPI
    # --extra-index-url appears only in the warning against it, never in a command.
    assert [line for line in manual.splitlines() if "--extra-index-url" in line and "pip install" in line] == []
    assert "dependency confusion" in manual
    assert "chmod 600 ~/.pypirc" in manual
    assert "keyring set https://upload.pypi.org/legacy/ __token__" in manual


@pytest.mark.parametrize("case", ["library", "meta", "no-testpypi", "extension"])
def test_releasing_verifies_on_a_python_the_release_supports(rendered: dict[str, Path], case: str) -> None:
    """verify_upload.py's own `# /// script` block allows any Python from 3.10: on an older one than
    the project's, pip refuses the wheel. RELEASING.md's command asks uv for one the release supports."""
    project = rendered[case]
    requires = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    text = (project / "RELEASING.md").read_text(encoding="utf-8")
    lines = [line for block in console_blocks(text) for line in block.splitlines() if "verify_upload.py" in line]
    assert len(lines) == (1 if case == "no-testpypi" else 2), lines
    assert {tuple(shlex.split(line)[:5]) for line in lines} == {
        ("uv", "run", "--python", requires, ".github/scripts/verify_upload.py")
    }


@pytest.mark.parametrize("case", ["library", "no-testpypi"])
def test_releasing_verbs_agree_with_the_indexes_named(rendered: dict[str, Path], case: str) -> None:
    """Without TestPyPI the subject is PyPI alone: "PyPI never accepts", not "PyPI never accept"."""
    text = (rendered[case] / "RELEASING.md").read_text(encoding="utf-8")
    subject, accept, refuse = (
        ("PyPI", "accepts", "refuses") if case == "no-testpypi" else ("PyPI and TestPyPI", "accept", "refuse")
    )
    assert f"{subject} never {accept} the same file name twice" in text
    assert f"{subject} {refuse} versions with a `+local` part" in text
    assert re.findall(r"(?<!Test)\bPyPI (?:never )?(?:accept|refuse)\b", text) == []


def test_script_tools_are_the_tested_tools(rendered: dict[str, Path]) -> None:
    """The script's `# /// script` requirements accept exactly the versions these tests run."""
    text = (rendered["library"] / "scripts" / "release_check.py").read_text(encoding="utf-8")
    (block,) = [m for m in SCRIPT_BLOCK.finditer(text) if m["type"] == "script"]
    lines = block["content"].splitlines(keepends=True)
    metadata = tomllib.loads("".join(line[2:] if line.startswith("# ") else line[1:] for line in lines))
    requirements = [Requirement(r) for r in metadata["dependencies"]]
    assert sorted(r.name for r in requirements) == ["build", "check-wheel-contents", "twine"]
    ours = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test_group = {req.name: req for req in map(Requirement, ours["dependency-groups"]["test"])}
    for requirement in requirements:
        assert requirement.specifier == test_group[requirement.name].specifier, requirement
        assert importlib.metadata.version(requirement.name) in requirement.specifier


PYPIRC_MODES = [
    pytest.param(0o600, True, id="600"),
    pytest.param(0o400, True, id="400"),
    pytest.param(0o644, False, id="644"),
    pytest.param(0o640, False, id="640"),
    pytest.param(0o604, False, id="604"),
    pytest.param(0o700, False, id="700"),
]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize(("mode", "ok"), PYPIRC_MODES)
def test_credentials_step_wants_mode_600(rendered: dict[str, Path], tmp_path: Path, mode: int, ok: bool) -> None:
    script = load_script(rendered["library"])
    (tmp_path / ".pypirc").write_text("[distutils]\nindex-servers =\n", encoding="utf-8")
    (tmp_path / ".pypirc").chmod(mode)
    result = script.check_credentials(home=tmp_path, root=rendered["library"])
    assert result.ok is ok
    if ok:
        assert result.summary == f"private: ~/.pypirc (mode {mode:o})"
    else:
        assert result.details == [
            f"~/.pypirc has mode {mode:o}: it holds API tokens and must be private; fix it with `chmod 600 ~/.pypirc`"
        ]


def test_credentials_step_without_any_pypirc_passes(rendered: dict[str, Path], tmp_path: Path) -> None:
    result = load_script(rendered["library"]).check_credentials(home=tmp_path, root=rendered["library"])
    assert result.ok
    assert result.summary.startswith("no ~/.pypirc or ./.pypirc")


def test_credentials_step_refuses_committed_pypirc(rendered: dict[str, Path], tmp_path: Path) -> None:
    project = shutil.copytree(rendered["meta"], tmp_path / "project")
    (project / ".pypirc").write_text("[distutils]\nindex-servers =\n", encoding="utf-8")
    (project / ".pypirc").chmod(0o600)
    script = load_script(project)
    git(project, "init", "--quiet")
    assert script.check_credentials(home=tmp_path / "empty-home", root=project).ok
    git(project, "add", "--force", ".pypirc")
    result = script.check_credentials(home=tmp_path / "empty-home", root=project)
    assert not result.ok
    (problem,) = result.details
    assert problem == ".pypirc is committed to git: run `git rm --cached .pypirc`, commit, and revoke its tokens"


@pytest.mark.parametrize(
    ("declared", "built", "message"),
    [
        ("0.1.0", "0.1.0", None),
        ("0.1.0+build.7", "0.1.0+build.7", "has a local part ('+...'): PyPI and TestPyPI refuse local versions"),
        ("1.0.0-rc1", "1.0.0rc1", "is not spelled canonically: the built files, and PyPI, call it '1.0.0rc1'"),
    ],
    ids=["public", "local", "non-canonical"],
)
def test_release_check_refuses_a_version_pypi_would(
    rendered: dict[str, Path], tmp_path: Path, declared: str, built: str, message: str | None
) -> None:
    """twine check accepts `+local` and `1.0.0-rc1`; the version step (the workflows' guard) does not."""
    project = shutil.copytree(rendered["library"], tmp_path / "demo-lib")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('version = "0.1.0"', f'version = "{declared}"'), encoding="utf-8"
    )
    metadata_wheel(project / "dist", "demo-lib", built)
    result = load_script(project).version()
    assert result.ok is (message is None), result
    if message is None:
        assert result.summary == f"version '{built}' can be released: tag it v{built}"
    else:
        assert result.summary == "the version cannot be released"
        assert message in "\n".join(result.details), result.details
