"""The command a library installs (command_name): the answer's rule, the files it adds, the console
script every backend's wheel installs, and updates from the release before the question.

The release before it is this template without the question (scenarios.remove_command_name): an
update with the default answer must leave a project byte-for-byte as it was.
"""

from __future__ import annotations

import configparser
import json
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest

from scenarios import META_EXTRAS, ODD_COMMAND, make_project, matrix_case_answers, matrix_cases, remove_command_name
from support.builds import build_dists, build_once
from support.envs import install_into, make_venv
from support.proc import commit_new_repo, git, run
from support.refusals import assert_prompt_message, render
from support.render import copy_template_tree, load_answers, project_files, render_once, template_source
from support.sharing import shared_folder, shared_once
from support.updating import answers_of, copier_cli, sync_check, update_api, workflow_steps

BEFORE, WITH = "v1.0.0", "v1.1.0"  # the release before command_name, and this one

# (id, answer, the rule the message's first line states)
REFUSED = [
    ("uppercase", "Acme", "a-z, 0-9, . _ -; starts with a-z"),
    ("leading-digit", "1acme", "a-z, 0-9, . _ -; starts with a-z"),
    ("leading-hyphen", "-acme", "a-z, 0-9, . _ -; starts with a-z"),
    ("trailing-dot", "acme.", "a-z, 0-9, . _ -; starts with a-z"),
    ("space", "acme tools", "a-z, 0-9, . _ -; starts with a-z"),
    ("slash", "acme/tools", "a-z, 0-9, . _ -; starts with a-z"),
    ("trailing-newline", "acme\n", "a-z, 0-9, . _ -; starts with a-z"),
    ("windows-device", "con", "must not be a Windows device name"),
    ("windows-device-with-suffix", "nul.tools", "must not be a Windows device name"),
]


@pytest.mark.parametrize(("answer", "rule"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_bad_command_name_is_refused_and_nothing_written(tmp_path: Path, answer: str, rule: str) -> None:
    dst = tmp_path / "project"
    with pytest.raises(ValueError, match=r"^Validation error for question 'command_name': ") as err:
        render(template_source(), dst, {"command_name": answer})
    details = assert_prompt_message(str(err.value), "command_name")
    assert str(err.value).split("\n")[0].endswith(f": {rule}"), str(err.value)
    assert details[0].startswith(f'command_name "{answer.splitlines()[0]}'), details
    assert not dst.exists()


def verify_commands(project: Path) -> list[str | None]:
    """The --command each verify job of publish.yml passes verify_upload.py (None: no option)."""
    runs = [step["run"].split() for step in workflow_steps(project) if "verify_upload.py" in step.get("run", "")]
    return [args[args.index("--command") + 1] if "--command" in args else None for args in runs]


def test_a_named_command_adds_its_script_module_test_and_verify_step() -> None:
    case = "setuptools-library"
    project = render_once(f"build-{case}", matrix_case_answers(case))  # the very render test_building builds
    import_name = load_answers(project)["import_name"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"] == {ODD_COMMAND: f"{import_name}.__main__:main"}
    assert (project / "src" / import_name / "__main__.py").is_file()
    assert (project / "tests" / "test_command.py").is_file()
    assert verify_commands(project) == [ODD_COMMAND, ODD_COMMAND]  # TestPyPI, then PyPI
    assert f"{ODD_COMMAND} --help" in (project / "README.md").read_text(encoding="utf-8")
    assert f"--command {ODD_COMMAND}" in (project / "RELEASING.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "data",
    [{}, {"project_kind": "meta-package", "build_backend": "hatchling", "extras": META_EXTRAS}],
    ids=["default", "meta-package"],
)
def test_no_command_by_default_nor_for_a_meta_package(tmp_path: Path, data: dict[str, object]) -> None:
    """A meta-package is never asked (a command given for it in the data is refused: test_answers_data)."""
    project = render(template_source(), tmp_path / "demo-pkg", data)
    files = project_files(project)
    assert [name for name in files if name.endswith(("__main__.py", "test_command.py"))] == []
    assert "scripts" not in tomllib.loads(files["pyproject.toml"].decode())["project"]
    assert verify_commands(project) in ([None, None], [None])  # with TestPyPI or not
    assert "command_name" not in load_answers(project) or load_answers(project)["command_name"] == ""


def console_scripts(wheel: Path) -> dict[str, str]:
    """The [console_scripts] of the wheel's entry_points.txt, as installers read it."""
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        parser = configparser.ConfigParser()
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # names keep their case
        parser.read_string(zf.read(name).decode())
    return dict(parser["console_scripts"])


LIBRARIES = [case for case, answers in matrix_cases() if answers.get("command_name")]


@pytest.mark.slow
@pytest.mark.parametrize("case_id", LIBRARIES)
def test_every_backend_declares_the_command_in_its_wheel(case_id: str) -> None:
    """The entry point, by the name answered. Installed, the script and `python -m` print the version:
    the generated tests/test_command.py checks both, against this wheel (test_building's install)."""
    project, dists = build_once(case_id, matrix_case_answers(case_id))
    answers = load_answers(project)
    assert console_scripts(dists.wheel) == {ODD_COMMAND: f"{answers['import_name']}.__main__:main"}
    assert f"COMMAND = {json.dumps(ODD_COMMAND)}" in (project / "tests" / "test_command.py").read_text(encoding="utf-8")


# --- Updates from the release before the question ---------------------------------------------


@pytest.fixture(scope="module")
def releases() -> Path:
    """A template repository: BEFORE without command_name, WITH this working tree. Made once per run."""

    def make(root: Path) -> None:
        repo = copy_template_tree(root / "pypi-template")
        removed = remove_command_name(repo)
        commit_new_repo(repo, "The release before command_name")
        git(repo, "tag", BEFORE)
        for path, content in removed.items():
            path.write_bytes(content)
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "--message", "command_name")
        git(repo, "tag", WITH)

    return shared_once(shared_folder() / "command-releases", make) / "pypi-template"


@pytest.mark.slow
def test_the_release_before_knows_no_command(releases: Path) -> None:
    found = subprocess.run(
        ["git", "grep", "-n", "-e", "command_name", "-e", "if command %", "-e", "{{ command }}", BEFORE, "--",
         "copier.yml", "includes", "template"],
        cwd=releases, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (found.returncode, found.stdout) == (1, ""), found.stdout  # 1: nothing found


@pytest.mark.slow
def test_update_with_the_default_leaves_the_project_as_it_was(tmp_path: Path, releases: Path) -> None:
    project = make_project(tmp_path, releases, vcs_ref=BEFORE)
    before, recorded = project_files(project), answers_of(project)
    update_api(project)
    after = project_files(project)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {".copier-answers.yml"}
    # The answers file records the new question's (empty) answer and the release, nothing else.
    assert load_answers(project)["_commit"] == WITH
    assert answers_of(project) == {**recorded, "command_name": ""}


@pytest.mark.slow
def test_update_with_a_command_name_switches_it_on(tmp_path: Path, releases: Path) -> None:
    """As docs/questions.md says: the update names the script; src/ is yours, so main() is written by
    hand (here: copied from a new project), and then the built wheel's command runs."""
    project = make_project(tmp_path, releases, vcs_ref=BEFORE)
    proc = copier_cli("update", "--defaults", "--data", "command_name=acme", cwd=project)
    assert proc.returncode == 0, proc.stderr
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"] == {"acme": "demo_pkg.__main__:main"}
    assert verify_commands(project) == ["acme", "acme"]
    main = Path("src", "demo_pkg", "__main__.py")
    assert not (project / main).exists()  # user-owned: never written by an update
    # The update's pull request says what is missing (this test's template is a local path, which
    # the check names too: only the script's line comes and goes).
    missing = f"{main.as_posix()} does not exist; an update never writes into src/"
    before = sync_check(project)
    assert before.returncode == 1, before.stdout + before.stderr
    assert [line for line in before.stderr.splitlines() if missing in line] != []
    fresh = make_project(tmp_path / "fresh", releases, answers_of(project), vcs_ref=WITH)
    (project / main).write_bytes((fresh / main).read_bytes())
    after = sync_check(project)
    assert [line for line in after.stderr.splitlines() if missing in line] == []
    assert [line for line in before.stderr.splitlines() if missing not in line][:-1] == after.stderr.splitlines()[:-1]
    dists = build_dists(project, tmp_path / "dist")
    python = make_venv(tmp_path / "venv")
    install_into(python, dists.wheel)
    assert run([python.parent / "acme", "--version"], cwd=tmp_path).stdout == "acme 0.1.0\n"
