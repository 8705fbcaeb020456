"""Rendering: every answer combination produces a complete, valid project, with no --trust."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
from copier.errors import UnsafeTemplateError
from pathvalidate import ValidationError, validate_filepath
from validate_pyproject import api as vp_api
from validate_pyproject import plugins as vp_plugins

from helpers import (
    PYTHON_VERSIONS,
    TEMPLATE_ROOT,
    git,
    list_files,
    load_answers,
    load_copier_config,
    make_template_repo,
    matrix_case_answers,
    matrix_cases,
    question_names,
    render_once,
    render_project,
    table,
    template_source,
)

CASES = matrix_cases()
IDS = [case_id for case_id, _ in CASES]

COMMON_FILES = {".copier-answers.yml", ".gitignore", "CHANGELOG.md", "LICENSE", "README.md", "pyproject.toml"}


@pytest.fixture(scope="module")
def validator() -> vp_api.Validator:
    return vp_api.Validator(plugins=vp_plugins.list_from_entry_points())


def test_copier_settings_never_need_trust() -> None:
    config = load_copier_config()
    assert config["_subdirectory"] == "template"
    assert config["_answers_file"] == ".copier-answers.yml"
    assert config["_envops"]["undefined"] == "jinja2.StrictUndefined"
    assert tuple(int(x) for x in config["_min_copier_version"].split(".")) >= (9, 13)
    for unsafe in ("_tasks", "_migrations", "_jinja_extensions", "_external_data"):
        assert unsafe not in config


def test_question_interface_is_kept() -> None:
    """Question names are an interface: org data files and answers files depend on them."""
    expected = {
        "project_name", "import_name", "description", "user_name", "user_email", "github_owner",
        "repository_name", "license", "python_min", "build_backend", "project_kind", "version",
        "use_testpypi",
    }
    assert expected <= set(question_names())


def test_defaults_with_copie(copie: Any) -> None:
    """The pytest-copie path (HEAD plus the working tree) with no answer given."""
    result = copie.copy()
    assert result.exit_code == 0, result.exception
    assert result.exception is None
    assert result.project_dir.is_dir()
    assert result.answers["project_name"] == result.project_dir.name


def test_defaults_take_destination_folder_name(tmp_path: Path) -> None:
    project = render_project(tmp_path / "acme-tools")
    answers = load_answers(project)
    assert answers["project_name"] == "acme-tools"
    assert answers["import_name"] == "acme_tools"
    assert answers["repository_name"] == "acme-tools"
    assert answers["license"] == "MIT"
    assert answers["build_backend"] == "setuptools"
    assert answers["project_kind"] == "library"
    assert answers["version"] == "0.1.0"
    assert answers["use_testpypi"] is True
    assert answers["python_min"] == "3.11"
    assert answers["_src_path"] == str(template_source())
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "acme-tools"
    assert (project / "src" / "acme_tools" / "__init__.py").is_file()


def windows_problems(paths: list[str]) -> dict[str, str]:
    """Each path Windows cannot hold (reserved characters or names such as `con`, trailing dots or
    spaces), with pathvalidate's reason: Git for Windows refuses to check such a path out."""
    problems = {}
    for path in paths:
        try:
            validate_filepath(path, platform="windows")
        except ValidationError as err:
            problems[path] = err.reason.name
    return problems


def test_every_tracked_path_is_valid_on_windows() -> None:
    """copier clones this repository on every copy and update: one bad name and Windows users cannot."""
    tracked = git(TEMPLATE_ROOT, "ls-files").splitlines()
    assert len(tracked) > 40 and "copier.yml" in tracked
    assert windows_problems(tracked) == {}


def test_windows_path_check_is_live() -> None:
    bad = ['template/tests/{% if project_kind == "library" %}x.jinja', "bench/{{ name | replace('-', '_') }}/x",
           "src/con/__init__.py", "docs/aux.md", "src/a./b.py", "src/a /b.py"]  # fmt: skip
    assert set(windows_problems(bad)) == set(bad)


@pytest.mark.parametrize(("case_id", "data"), CASES, ids=IDS)
def test_render_matrix(validator: vp_api.Validator, case_id: str, data: dict[str, Any]) -> None:
    # The render test_building builds (helpers.build_once), with the odd answers of every case but "defaults".
    project = render_once(f"build-{case_id}", matrix_case_answers(case_id))
    answers = load_answers(project)
    files = list_files(project)
    assert COMMON_FILES <= files
    assert windows_problems(sorted(files)) == {}
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    validator(pyproject)  # raises on any PEP 621 / PEP 639 / tool.setuptools violation
    backend = table("backends")[data.get("build_backend", "setuptools")]
    assert pyproject["build-system"] == {"requires": [backend["requires"]], "build-backend": backend["build_backend"]}
    project_table = pyproject["project"]
    assert project_table["license"] == "MIT"
    assert project_table["license-files"] == ["LICENSE"]
    assert not [c for c in project_table["classifiers"] if c.startswith("License ::")]
    assert set(project_table["urls"]) == {"Homepage", "Repository", "Issues", "Changelog"}
    if data.get("project_kind") == "meta-package":
        assert not any(f.startswith("src/") for f in files)
        extras = project_table["optional-dependencies"]
        assert extras["all"] == [answers["project_name"] + "[" + ",".join(data["extras"]) + "]"]
        assert {k: v for k, v in extras.items() if k != "all"} == data["extras"]
    else:
        name = answers["import_name"]
        assert {f"src/{name}/__init__.py", f"src/{name}/py.typed", f"tests/test_{name}.py"} <= files
        assert "optional-dependencies" not in project_table


def test_classifiers_follow_python_min(tmp_path: Path) -> None:
    project = render_project(tmp_path / "demo", {"python_min": PYTHON_VERSIONS[1]})
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["requires-python"] == f">={PYTHON_VERSIONS[1]}"
    declared = [c.rsplit(" :: ", 1)[1] for c in pyproject["project"]["classifiers"] if re.search(r":: 3\.\d+$", c)]
    assert declared == PYTHON_VERSIONS[1:]


@pytest.mark.parametrize("license_id", list(table("licenses")))
def test_license_text_and_expression(tmp_path: Path, license_id: str) -> None:
    data = {"license": license_id, "copyright_holder": "Acme Corp", "copyright_year": "2024-2026"}
    project = render_project(tmp_path / "demo", data)
    text = (project / "LICENSE").read_text(encoding="utf-8")
    assert "Copyright" in text and "2024-2026 Acme Corp" in text
    assert "[yyyy]" not in text and "[name of copyright owner]" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == table("licenses")[license_id]
    if license_id == "Proprietary":
        assert "All rights reserved" in text
    else:
        assert len(text) > 1000  # the full license text, not a stub


def test_readme_links_are_absolute(tmp_path: Path) -> None:
    """PyPI renders the README away from the repository: relative links break there."""
    project = render_project(tmp_path / "demo", {"github_owner": "acme", "project_kind": "meta-package", "extras": {"x": ["idna"]}})
    readme = (project / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", readme)
    assert targets, readme
    assert all(t.startswith("https://") for t in targets), targets
    assert "https://github.com/acme/demo/blob/main/LICENSE" in targets


def test_render_does_not_depend_on_machine(tmp_path: Path) -> None:
    """Same answers, two destinations: identical files, the answers file included.

    (From a plain folder: a dirty git template would get a new `_commit` hash on each copy.)
    """
    data = {"project_name": "same", "copyright_year": "2026"}
    first = render_project(tmp_path / "a" / "same", data)
    second = render_project(tmp_path / "b" / "same", data)
    files = list_files(first)
    assert files == list_files(second)
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert str(tmp_path) not in "".join((first / n).read_text(encoding="utf-8") for n in files)


def test_copy_without_trust_through_api(tmp_path: Path) -> None:
    """unsafe=False is the default users get: the template must render without --trust."""
    copier.run_copy(str(TEMPLATE_ROOT), tmp_path / "demo", defaults=True, unsafe=False, vcs_ref="HEAD", quiet=True)
    assert (tmp_path / "demo" / "pyproject.toml").is_file()
    # From this git checkout, the answers name it and the commit copied (HEAD, with dirty changes).
    answers = load_answers(tmp_path / "demo")
    assert answers["_src_path"] == str(TEMPLATE_ROOT)
    assert answers["_commit"]


def test_trust_requirement_would_be_caught(tmp_path: Path) -> None:
    """The unsafe=False check above is real: a template with a task is refused."""
    template = make_template_repo(tmp_path / "tpl", tag=None)
    with (template / "copier.yml").open("a", encoding="utf-8") as fh:
        fh.write("\n_tasks:\n  - echo hi\n")
    with pytest.raises(UnsafeTemplateError):
        copier.run_copy(str(template), tmp_path / "out", defaults=True, unsafe=False, vcs_ref="HEAD", quiet=True)
    assert not (tmp_path / "out").exists()


# Copying from tags (the latest PEP 440 tag, never the working tree): tests/test_update.py.


def test_user_settings_are_isolated(tmp_path: Path, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's settings.yml must not leak in; the isolation fixture proves it does not."""
    assert isolated_settings.read_text(encoding="utf-8") == "{}\n"
    leaky = tmp_path / "settings.yml"
    leaky.write_text("defaults:\n  user_name: Leaky Dev\n  license: Apache-2.0\n", encoding="utf-8")
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(leaky))
    answers = load_answers(render_project(tmp_path / "leaky"))
    assert (answers["user_name"], answers["license"]) == ("Leaky Dev", "Apache-2.0")
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(isolated_settings))
    answers = load_answers(render_project(tmp_path / "clean"))
    assert (answers["user_name"], answers["license"]) == ("Your Name", "MIT")


@pytest.mark.parametrize("backend", ["flit-core", "poetry-core"])
def test_meta_package_needs_a_capable_backend(tmp_path: Path, backend: str) -> None:
    """The choices follow project_kind: a backend that needs an import package is not offered."""
    dst = tmp_path / "meta"
    with pytest.raises(ValueError) as err:
        render_project(dst, {"project_kind": "meta-package", "extras": {}, "build_backend": backend})
    offered = [name for name, spec in table("backends").items() if spec["meta_package"]]
    assert str(err.value) == f"Invalid choice for 'build_backend': {backend!r} is not in {offered!r}"
    assert not dst.exists()


def test_development_status_choices_are_pypi_classifiers(tmp_path: Path) -> None:
    """Every choice is a trove classifier PyPI accepts, and the answer is the one classifier written."""
    from trove_classifiers import classifiers

    choices = load_copier_config()["development_status"]["choices"]
    assert {f"Development Status :: {c}" for c in choices} == {c for c in classifiers if c.startswith("Development Status ::")}
    project = render_project(tmp_path / "demo", {"development_status": choices[-1]})
    declared = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["classifiers"]
    assert [c for c in declared if c.startswith("Development Status ::")] == [f"Development Status :: {choices[-1]}"]

