"""Rendering: every answer combination produces a complete, valid project, with no --trust."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import copier
import jinja2
import jinja2.meta
import pytest
import yaml
from copier.errors import UnsafeTemplateError
from pathvalidate import ValidationError, validate_filepath
from validate_pyproject import api as vp_api
from validate_pyproject import plugins as vp_plugins

import support.config
from scenarios import VARIANTS, make_template_repo, matrix_case_answers, matrix_cases, variant_project
from support.config import (
    PYTHON_VERSIONS,
    TEMPLATE_ROOT,
    backend_names,
    kind_backends,
    load_copier_config,
    meta_package_backends,
    question_names,
    table,
)
from support.proc import git, import_script, tool
from support.render import (
    copy_template_tree,
    list_files,
    load_answers,
    project_files,
    render_once,
    render_project,
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
        "project_name",
        "import_name",
        "description",
        "user_name",
        "user_email",
        "github_owner",
        "repository_name",
        "license",
        "python_min",
        "build_backend",
        "project_kind",
        "version",
        "use_testpypi",
        "default_branch",
        "version_source",
        "command_name",
        "docs_site",
    }
    assert expected <= set(question_names())


def test_every_question_reads_only_keys_defined_before_it() -> None:
    """copier evaluates copier.yml's keys in document order (tables, questions, computed values):
    a default, choice list, condition, help or validator that reads a later key fails every render."""
    config = load_copier_config()
    names = [name for name in config if not name.startswith("_")]
    env = jinja2.Environment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])  # copier's filters
    for index, name in enumerate(names):
        later = set(names[index + 1 :])
        for field, text in config[name].items():
            if isinstance(text, str) and ("{{" in text or "{%" in text):
                read = jinja2.meta.find_undeclared_variables(env.parse(text)) & later
                assert not read, f"{name}'s {field} reads {sorted(read)}, which copier.yml defines after it"


# Asked questions whose validator does not end in the update guard, each with the reason.
NO_UPDATE_GUARD = {
    "development_status": "PyPI's own classifiers (a test here checks them): a release never drops one",
    "use_testpypi": "a yes/no answer: every recorded true or false still parses, so copier never drops one",
    "use_renovate": "a yes/no answer: every recorded true or false still parses, so copier never drops one",
}


def test_every_asked_question_ends_in_the_update_guard() -> None:
    """copier drops a recorded answer its question no longer accepts and takes the default silently:
    every validator's last output is `answers.kept(name, value, why, rule)` (or `answers.derived`, which
    ends in it), or the question is listed above."""
    config = load_copier_config()
    for name in question_names():
        validator = config[name].get("validator", "")
        # kept(name, value, why, rule): the last argument a rule macro or table, or the guard cannot tell.
        guarded = re.search(
            rf"answers\.(kept|derived)\('{name}', {name}, [^\n]*, (\w+|\[[^\]\n]*\])\) \}}\}}"
            r"\s*(\{%-? endif -?%\}\s*)*\Z",
            validator,
        )
        if name in NO_UPDATE_GUARD:
            assert not guarded, f"{name} ends in the update guard now: drop it from NO_UPDATE_GUARD"
        else:
            assert guarded, (
                f"{name}'s validator must end with answers.kept('{name}', {name}, why, rule) (docs/contributing.md)"
            )


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
    assert len(tracked) > 40
    assert "copier.yml" in tracked
    assert windows_problems(tracked) == {}


def test_windows_path_check_is_live() -> None:
    bad = ['template/tests/{% if project_kind == "library" %}x.jinja', "bench/{{ name | replace('-', '_') }}/x",
           "src/con/__init__.py", "docs/aux.md", "src/a./b.py", "src/a /b.py"]  # fmt: skip
    assert set(windows_problems(bad)) == set(bad)


@pytest.mark.parametrize(("case_id", "data"), CASES, ids=IDS)
def test_render_matrix(validator: vp_api.Validator, case_id: str, data: dict[str, Any]) -> None:
    # The render test_building builds (support.builds.build_once), with the odd answers of every case but "defaults".
    project = render_once(f"build-{case_id}", matrix_case_answers(case_id))
    answers = load_answers(project)
    files = list_files(project)
    assert files >= COMMON_FILES
    assert windows_problems(sorted(files)) == {}
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    validator(pyproject)  # raises on any PEP 621 / PEP 639 / tool.setuptools violation
    backend = table("backends")[data.get("build_backend", "setuptools")]
    # version_source git-tag: the backend's version plugin too, and no version typed in.
    git_tag = data.get("version_source") == "git-tag"
    binding = [backend["binding"]] if "binding" in backend else []  # an extension's binding library (nanobind)
    requires = [backend["requires"], *binding, *(backend["version_plugin"] if git_tag else [])]
    assert pyproject["build-system"] == {"requires": requires, "build-backend": backend["build_backend"]}
    project_table = pyproject["project"]
    assert ("version" in project_table, project_table.get("dynamic")) == (
        (False, ["version"]) if git_tag else (True, None)
    )
    assert project_table["license"] == "MIT"
    assert project_table["license-files"] == ["LICENSE"]
    assert not [c for c in project_table["classifiers"] if c.startswith("License ::")]
    docs = {"Documentation"} if data.get("docs_site", "none") != "none" else set()
    assert set(project_table["urls"]) == {"Homepage", "Repository", "Issues", "Changelog", *docs}
    if data.get("project_kind") == "meta-package":
        assert not any(f.startswith("src/") for f in files)
        extras = project_table["optional-dependencies"]
        assert extras["all"] == [answers["project_name"] + "[" + ",".join(sorted(data["extras"])) + "]"]
        assert {k: v for k, v in extras.items() if k != "all"} == data["extras"]
    else:
        name = answers["import_name"]
        assert {f"src/{name}/__init__.py", f"src/{name}/py.typed", f"tests/test_{name}.py"} <= files
        assert "optional-dependencies" not in project_table


# A path a generated file names is in the project, or it is the template's own and says so
# ("pypi-template's docs/decisions.md"), or it is one of these, with the reason it is not there.
NOT_IN_THE_PROJECT = {
    "release-scripts/verify_upload.py": "publish.yml's verify jobs download the script into release-scripts/",
    "pinned.txt": "verify_upload.py writes it into its own temporary folder",
    "host-wheel.json": "verify_upload.py writes pip's report into its own temporary folder",
    "pyvenv.cfg": "check_template_sync.py skips the folders that hold one (virtual environments)",
    "CMakeLists.txt": "check_template_sync.py reads an extension's build file where the project has one",
}
PATH_REFERENCE = re.compile(
    r"(?<![\w/.:~@{$*-])(?:(?P<template>pypi-template's )?)"
    r"(?P<path>(?:\.?[\w-]+/)*\.?[\w-]+\.(?:md|py|ya?ml|toml|txt|json|cfg|in|lock|typed|example))\b(?![/\w])"
)
# `(pypi-template's docs/decisions.md, "Title")`: the quoted title, after a comment's line break too.
SECTION = re.compile(r',\s*(?:#\s*)?"([^"]+)"')


def path_references(files: Mapping[str, bytes]) -> list[tuple[str, str, bool, str | None]]:
    """(file, path, named as the template's, section title) for every file path a generated file
    (of `files`, support.render.project_files: git's own left out) names."""
    found = []
    for name, data in sorted(files.items()):
        text = data.decode("utf-8")
        for match in PATH_REFERENCE.finditer(text):
            section = SECTION.match(text, match.end())
            found.append((name, match["path"], bool(match["template"]), section[1] if section else None))
    return found


def missing_paths(project: Path) -> list[tuple[str, str]]:
    """The references that name nothing: not in the project, not in the template, not a known exception."""
    files = project_files(project)  # git's own left out: scenarios.variant_project commits some
    missing = []
    for name, path, template, section in path_references(files):
        if template:
            target = TEMPLATE_ROOT / path
        elif "/" in path:
            target = project / path
        else:  # a bare file name: some file of the project has it
            target = next((project / f for f in files if f.rsplit("/", 1)[-1] == path), project / path)
        exists = target.is_file() or path in NOT_IN_THE_PROJECT
        if exists and section and path.endswith(".md"):  # the section it names is a heading there
            exists = bool(
                re.search(rf"^#+ {re.escape(section)}", target.read_text(encoding="utf-8"), flags=re.MULTILINE)
            )
        if not exists:
            missing.append((name, f"{path} ({section})" if section else path))
    return missing


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_generated_files_name_only_paths_that_exist(variant: str) -> None:
    """A generated project has no docs/decisions.md: a file that points at one names the template's."""
    project = variant_project(variant)
    references = path_references(project_files(project))
    assert len(references) > 20, references
    assert any(template for _, _, template, _ in references), references
    assert missing_paths(project) == []


def test_path_reference_check_is_live(tmp_path: Path) -> None:
    project = render_project(tmp_path / "demo")
    with (project / "RELEASING.md").open("a", encoding="utf-8") as out:
        out.write(
            '\nSee docs/decisions.md, SECURITY.md, RELEASING.md, "Nothing" and '
            'pypi-template\'s docs/decisions.md, "No such decision".\n'
        )
    assert missing_paths(project) == [
        ("RELEASING.md", "docs/decisions.md"), ("RELEASING.md", "SECURITY.md"),
        ("RELEASING.md", "RELEASING.md (Nothing)"),
        ("RELEASING.md", "docs/decisions.md (No such decision)"),
    ]  # fmt: skip


def git_accepts_branch(name: str) -> bool:
    return (
        subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, check=False).returncode == 0
    )


def test_default_branch_is_named_wherever_the_branch_matters(tmp_path: Path) -> None:
    """ci.yml's push filter, the changelog URL, README's license link and RELEASING.md's push."""
    branch = "release/2.x"
    project = render_project(tmp_path / "demo", {"default_branch": branch, "github_owner": "acme"})
    ci = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert ci[True]["push"] == {"branches": [branch]}  # YAML 1.1 reads the key `on` as True
    urls = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Changelog"] == f"https://github.com/acme/demo/blob/{branch}/CHANGELOG.md"
    assert f"(https://github.com/acme/demo/blob/{branch}/LICENSE)" in (project / "README.md").read_text(
        encoding="utf-8"
    )
    assert f"\n   git push origin {branch}\n" in (project / "RELEASING.md").read_text(encoding="utf-8")
    generated = "".join((project / name).read_text(encoding="utf-8") for name in list_files(project))
    assert "/main/" not in generated
    assert "origin main" not in generated
    assert "[main]" not in generated


# Branch names YAML or GitHub read as something else ("on", "1.0") must reach ci.yml as written
# ("main" is every other render's; "release/2.x" the test above's).
ACCEPTED_BRANCHES = ["master", "trunk", "dev_1.0", "on", "1.0", "a.b-c/d_e"]
REFUSED_BRANCHES = {
    "": "letters, digits, . _ - / only", "feature x": "letters, digits, . _ - / only",
    "a+b": "letters, digits, . _ - / only", "!main": "letters, digits, . _ - / only",
    "ma*in": "letters, digits, . _ - / only", "naïve": "letters, digits, . _ - / only",
    "a~1": "letters, digits, . _ - / only",
    "a..b": "not a branch name git accepts", "-main": "not a branch name git accepts",
    "main/": "not a branch name git accepts", "/main": "not a branch name git accepts",
    "main.": "not a branch name git accepts", "a//b": "not a branch name git accepts",
    ".hidden": "not a branch name git accepts", "a/.b": "not a branch name git accepts",
    "main.lock": "not a branch name git accepts", "a.lock/b": "not a branch name git accepts",
    "HEAD": "not a branch name git accepts",
}  # fmt: skip


@pytest.mark.parametrize("branch", ACCEPTED_BRANCHES)
def test_default_branch_accepts_branch_names_git_accepts(tmp_path: Path, branch: str) -> None:
    assert git_accepts_branch(branch)
    project = render_project(tmp_path / "demo", {"default_branch": branch})
    ci = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert ci[True]["push"]["branches"] == [branch]


@pytest.mark.parametrize(("branch", "rule"), list(REFUSED_BRANCHES.items()), ids=list(REFUSED_BRANCHES))
def test_default_branch_refuses_what_git_or_github_filters_would_not_take(
    tmp_path: Path, branch: str, rule: str
) -> None:
    """git's own rules (compared with `git check-ref-format --branch`), on a narrower alphabet."""
    if rule == "not a branch name git accepts":
        assert not git_accepts_branch(branch)
    dst = tmp_path / "demo"
    with pytest.raises(ValueError, match=r"^Validation error for question 'default_branch': ") as err:
        render_project(dst, {"default_branch": branch})
    first, *details = str(err.value).split("\n")
    assert first == f"Validation error for question 'default_branch': {rule}"
    assert len(first) <= 80
    assert details[0].startswith(f'default_branch "{branch}" ')
    assert not dst.exists()


def test_classifiers_follow_python_min(tmp_path: Path) -> None:
    project = render_project(tmp_path / "demo", {"python_min": PYTHON_VERSIONS[1]})
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["requires-python"] == f">={PYTHON_VERSIONS[1]}"
    declared = [c.rsplit(" :: ", 1)[1] for c in pyproject["project"]["classifiers"] if re.search(r":: 3\.\d+$", c)]
    assert declared == PYTHON_VERSIONS[1:]


@pytest.mark.parametrize("license_id", list(table("licenses")))
def test_license_text_and_expression(tmp_path: Path, license_id: str) -> None:
    data = {"license": license_id, "copyright_holder": "Acme Corp.", "copyright_year": "2024-2026"}
    project = render_project(tmp_path / "demo", data)
    text = (project / "LICENSE").read_text(encoding="utf-8")
    assert "Copyright" in text
    assert "2024-2026 Acme Corp." in text
    assert "Acme Corp.." not in text  # a holder ending in "." gets no second one
    assert "[yyyy]" not in text
    assert "[name of copyright owner]" not in text
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == table("licenses")[license_id]
    if license_id == "Proprietary":
        assert "All rights reserved" in text
    else:
        assert len(text) > 1000  # the full license text, not a stub


def test_readme_links_are_absolute(tmp_path: Path) -> None:
    """PyPI renders the README away from the repository: relative links break there."""
    project = render_project(
        tmp_path / "demo", {"github_owner": "acme", "project_kind": "meta-package", "extras": {"x": ["idna"]}}
    )
    readme = (project / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", readme)
    assert targets, readme
    assert all(t.startswith("https://") for t in targets), targets
    assert "https://github.com/acme/demo/blob/main/LICENSE" in targets
    # Every link into the repository's default branch names a file the project has.
    blobs = [t.removeprefix("https://github.com/acme/demo/blob/main/") for t in targets if "/blob/main/" in t]
    assert "CONTRIBUTING.md" in blobs, blobs
    assert all((project / path).is_file() for path in blobs), blobs
    # The CI badge: GitHub's own (the default branch's status), for a workflow the project has.
    badge = "https://github.com/acme/demo/actions/workflows/ci.yml"
    assert f"[![CI]({badge}/badge.svg)]({badge})" in readme
    assert (project / ".github" / "workflows" / "ci.yml").is_file()


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
    with pytest.raises(ValueError, match=r"^Invalid choice for 'build_backend': ") as err:
        render_project(dst, {"project_kind": "meta-package", "extras": {}, "build_backend": backend})
    offered = meta_package_backends()
    assert str(err.value) == f"Invalid choice for 'build_backend': {backend!r} is not in {offered!r}"
    assert not dst.exists()


def test_development_status_choices_are_pypi_classifiers(tmp_path: Path) -> None:
    """Every choice is a trove classifier PyPI accepts, and the answer is the one classifier written."""
    from trove_classifiers import classifiers

    choices = load_copier_config()["development_status"]["choices"]
    assert {f"Development Status :: {c}" for c in choices} == {
        c for c in classifiers if c.startswith("Development Status ::")
    }
    project = render_project(tmp_path / "demo", {"development_status": choices[-1]})
    declared = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["classifiers"]
    assert [c for c in declared if c.startswith("Development Status ::")] == [f"Development Status :: {choices[-1]}"]


# A backend's own pyproject.toml tables live in one file per table entry, included by name.
LAYOUTS = TEMPLATE_ROOT / "includes" / "backends"
NEW_BACKEND = {"requires": "new-backend>=1", "build_backend": "new_backend.api", "kinds": ["library", "meta-package"]}


def template_with_new_backend(dst: Path) -> Path:
    """A copy of this template whose backends table has one more entry ("new-backend")."""
    template = copy_template_tree(dst)
    with (template / "includes" / "tables" / "backends.yml").open("a", encoding="utf-8") as fh:
        fh.write("    new-backend: " + json.dumps(NEW_BACKEND) + "\n")
    return template


def test_every_backend_has_one_layout_file() -> None:
    """No table entry without its layout, no layout without its table entry (and nothing else there)."""
    assert sorted(p.name for p in LAYOUTS.iterdir()) == sorted(f"{name}.toml.jinja" for name in backend_names())


def test_backend_without_layout_file_fails_the_render(tmp_path: Path) -> None:
    """A backend added to the table alone cannot render a project that lacks its tables."""
    template = template_with_new_backend(tmp_path / "tpl")
    dst = tmp_path / "out" / "demo-pkg"
    # The CLI, as a user runs it (in process, copier's interrupted folder walk leaks a scandir iterator).
    proc = subprocess.run([tool("copier"), "copy", "--defaults", "--quiet", "--data", "build_backend=new-backend",
                           template, dst],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith(
        "jinja2.exceptions.TemplateNotFound: 'includes/backends/new-backend.toml.jinja' not found"
    ), proc.stderr
    assert not dst.exists()
    # The same copy renders again once the layout file exists: the file was all that was missing.
    (template / "includes" / "backends" / "new-backend.toml.jinja").write_text(
        "\n[tool.new-backend]\n", encoding="utf-8"
    )
    project = render_project(dst, {"build_backend": "new-backend"}, src=template)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["build-system"]["build-backend"] == "new_backend.api"
    assert pyproject["tool"]["new-backend"] == {}


def test_benchmark_backends_are_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/run.py's verified benchmark times every library backend of copier.yml, a new one included
    (an extension backend builds no pure-Python library)."""
    run_py = TEMPLATE_ROOT / "bench" / "run.py"
    assert kind_backends("library") == import_script(run_py, "bench_run_backends").BACKENDS
    expected = [*kind_backends("library"), "new-backend"]
    monkeypatch.setattr(support.config, "COPIER_YML", template_with_new_backend(tmp_path / "tpl") / "copier.yml")
    support.config.load_copier_config.cache_clear()  # the table is read once per process
    try:
        assert expected == import_script(run_py, "bench_run_backends").BACKENDS
    finally:
        monkeypatch.undo()
        support.config.load_copier_config.cache_clear()
