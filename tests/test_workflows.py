"""Workflows: the hardening every generated workflow shares (pins from the actions table, names,
timeouts, zizmor, GitHub's schemas), ci.yml, dependabot.yml, the template sources' `${{ }}`, this
repository's own workflow, and the generated build, CI and lint steps run on generated projects.

Rendering only (no build) except the `slow` tests at the end. publish.yml and RELEASING.md are
tests/test_publish_workflow.py; what the generated scripts do, their own modules (what
verify_upload.py checks on an index is tests/test_integrity.py).
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from check_jsonschema.cli.main_command import main as check_jsonschema
from click.testing import CliRunner, Result
from packaging.requirements import Requirement
from packaging.version import Version

from scenarios import render_importing_a_typed_dependency, workflow_cases
from support.clients import project_mypy_cache
from support.config import PYTHON_VERSIONS, TEMPLATE_ROOT, table
from support.proc import PYTHON, run, tool
from support.render import render_project
from support.workflows import (
    Rendered,
    action_repo,
    load_yaml,
    render_workflow_case,
    run_job_steps,
    steps,
    zizmor_pedantic,
)

ACTIONS = table("actions")
SHA_PIN = re.compile(r"^\s*(?:-\s+)?uses:\s*([^@\s]+)@(\S+)(?:\s+#\s*(\S+))?\s*$")


@pytest.fixture(scope="module", params=workflow_cases())
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render_workflow_case(request.param)


# --- ci.yml ------------------------------------------------------------------------------------


def test_ci_installs_a_meta_package_with_all_its_extras(rendered: Rendered) -> None:
    runs = [s["run"] for s in steps(rendered.workflow("ci.yml")["jobs"]["tests"]) if "run" in s]
    (install,) = [r for r in runs if "--group test" in r]
    kind, extras = rendered.answers["project_kind"], rendered.answers.get("extras")
    target = '".[all]"' if kind == "meta-package" and extras else "."
    assert install.splitlines()[-1] == f"python -m pip install --group test {target}"


# --- Hardening common to every generated workflow ---------------------------------------------


def uses_lines(path: Path) -> list[re.Match[str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    matches = [SHA_PIN.match(line) for line in lines]
    assert all(matches), lines
    return matches  # type: ignore[return-value]


def assert_pins_match_table(path: Path) -> set[str]:
    """Every `uses:` is `repo@<40-hex commit SHA> # vX.Y.Z` exactly as copier.yml's table says."""
    by_repo = {a["repo"]: a for a in ACTIONS.values()}
    seen = set()
    for match in uses_lines(path):
        repo, ref, comment = match.groups()
        assert re.fullmatch(r"[0-9a-f]{40}", ref), match.group(0)
        assert repo in by_repo, f"{path.name}: {repo} is not in copier.yml's actions table"
        assert (ref, comment) == (by_repo[repo]["sha"], by_repo[repo]["version"]), match.group(0)
        seen.add(repo)
    workflow = load_yaml(path)
    assert len(uses_lines(path)) == sum(1 for job in workflow["jobs"].values() for s in steps(job) if "uses" in s)
    return seen


# First releases that run on node24 (runners drop node20 in 2026); for the publish action, the first
# that reads Metadata-Version 2.5. A new action in the table must state its minimum here.
MINIMUM_ACTION_VERSIONS = {
    "checkout": "5",
    "setup-python": "6",
    "upload-artifact": "6",
    "download-artifact": "7",
    "pypi-publish": "1.14.2",
    "configure-pages": "6",
    "upload-pages-artifact": "5",
    "deploy-pages": "5",
    # Composite: its own setup-python step is v7 (node24) from this release on.
    "cibuildwheel": "4.2.0",
}


def test_action_table_pins_node24_releases() -> None:
    assert set(ACTIONS) == set(MINIMUM_ACTION_VERSIONS)
    for name, minimum in MINIMUM_ACTION_VERSIONS.items():
        action = ACTIONS[name]
        assert re.fullmatch(r"[0-9a-f]{40}", action["sha"]), name
        assert re.fullmatch(r"v\d+\.\d+\.\d+", action["version"]), name
        assert Version(action["version"][1:]) >= Version(minimum), name


def test_every_action_is_pinned_from_the_table(rendered: Rendered) -> None:
    used = set().union(*(assert_pins_match_table(p) for p in rendered.workflow_files()))
    # The Pages actions (`docs: true` in the table) only where there is a documentation site;
    # cibuildwheel (`extension: true`) only for an extension.
    docs = rendered.answers["docs_site"] != "none"
    extension = rendered.answers["project_kind"] == "extension"
    assert used == {
        a["repo"] for a in ACTIONS.values() if (docs or not a.get("docs")) and (extension or not a.get("extension"))
    }


def test_workflows_are_named_timed_and_cache_free(rendered: Rendered) -> None:
    for path in rendered.workflow_files():
        workflow = load_yaml(path)
        assert workflow["name"], path.name
        assert "concurrency" in workflow, path.name
        for job_id, job in workflow["jobs"].items():
            assert job["name"], (path.name, job_id)
            assert isinstance(job["timeout-minutes"], int), (path.name, job_id)
            for step in steps(job):
                assert step["name"], (path.name, job_id, step)
                assert "${{" not in step.get("run", ""), (path.name, job_id, step["name"])
                assert "cache" not in step.get("with", {}), (path.name, job_id, step["name"])
                assert action_repo(step) != "actions/cache"


def test_ci_tests_every_supported_python_and_builds(rendered: Rendered) -> None:
    ci = rendered.workflow("ci.yml")
    # A pull request from a branch of the repository runs once, not once for the push as well; and by hand.
    branch = rendered.answers["default_branch"]
    assert ci["on"] == {"push": {"branches": [branch]}, "pull_request": None, "workflow_dispatch": None}
    supported = PYTHON_VERSIONS[PYTHON_VERSIONS.index(rendered.answers["python_min"]) :]
    matrix = ci["jobs"]["tests"]["strategy"]["matrix"]
    assert (matrix["os"], matrix["python-version"]) == (["ubuntu-latest"], supported)
    if rendered.answers["project_kind"] == "extension":
        assert "include" not in matrix  # the wheels job builds and tests on Windows and macOS
    else:  # and the oldest and newest Python on Windows and macOS
        ends = sorted({supported[0], supported[-1]}, key=supported.index)
        systems = ("windows-latest", "macos-latest")
        assert matrix["include"] == [{"os": os, "python-version": v} for os in systems for v in ends]
    # A library's tests run under coverage (its figures and threshold: test_coverage.py).
    runs = [s.get("run") for s in steps(ci["jobs"]["tests"])]
    library = rendered.answers["project_kind"] == "library"
    assert ("python -m coverage run -m pytest" if library else "python -m pytest") in runs
    release_build = [s for s in steps(rendered.workflow("publish.yml")["jobs"]["build"]) if "run" in s]
    ci_build = [s for s in steps(ci["jobs"]["build"]) if "run" in s]
    # CI runs the release's build and checks; the version guard runs without a tag (a push has none),
    # so a version that cannot be released fails CI, not the release.
    guard = "python .github/scripts/check_release_version.py"
    if rendered.answers["project_kind"] == "extension":
        # The release builds its wheels with cibuildwheel (test_wheels_workflow.py): CI's host build
        # runs the checks the release's build job runs on all of them.
        checks = ("python -m twine check --strict dist/*", "check-wheel-contents ")
        release_build = [s for s in release_build if s["run"].startswith(checks)]
        ci_build = [s for s in ci_build if s["run"].startswith((*checks, guard))]
    assert [s for s in ci_build if not s["run"].startswith(guard)] == [
        s for s in release_build if not s["run"].startswith(guard)
    ]
    (ci_guard,) = [s for s in ci_build if s["run"].startswith(guard)]
    assert ci_guard["run"] == f"{guard} --dist dist"
    assert ci_build[-1] == ci_guard


def test_template_sync_job_runs_a_python_with_a_toml_parser(rendered: Rendered) -> None:
    """check_template_sync.py's TOML checks need tomllib: on Python 3.10 it skips them (python_min 3.10)."""
    (setup,) = [
        s for s in steps(rendered.workflow("ci.yml")["jobs"]["template-sync"]) if "python-version" in s.get("with", {})
    ]
    assert Version(setup["with"]["python-version"]) >= Version("3.11")
    assert setup["with"]["python-version"] == PYTHON_VERSIONS[-1]


def test_zizmor_pedantic_finds_nothing(rendered: Rendered) -> None:
    proc = zizmor_pedantic(rendered.github)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []
    audited = {Path(p).name for p in re.findall(r"completed (\S+)", proc.stderr)}
    assert audited == {"dependabot.yml", *(p.name for p in rendered.workflow_files())}


def check_schema(schema: str, *paths: Path) -> Result:
    """check-jsonschema's own command line, in process (a subprocess per file costs a second)."""
    return CliRunner().invoke(check_jsonschema, ["--builtin-schema", schema, *map(str, paths)])


def test_github_schemas_accept_workflows_and_dependabot(rendered: Rendered) -> None:
    for schema, paths in [
        ("vendor.github-workflows", rendered.workflow_files()),
        ("vendor.dependabot", [rendered.github / "dependabot.yml"]),
    ]:
        result = check_schema(schema, *paths)
        assert result.exit_code == 0, result.output
        assert "ok -- validation done" in result.output, result.output


def test_actionlint_where_installed(tmp_path: Path) -> None:
    """actionlint has no offline wheel: it runs where a binary is on PATH, over every case."""
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed on this machine")
    for param in workflow_cases():
        ((case_id, data),) = param.values
        project = render_project(tmp_path / case_id, data)
        run([actionlint, *sorted((project / ".github/workflows").glob("*.yml"))])


# --- Dependabot policy -----------------------------------------------------------------------


def test_dependabot_leaves_template_actions_to_copier_update(rendered: Rendered) -> None:
    """Bot bumps and `copier update` must not both edit the template's `uses:` lines."""
    updates = dependabot_updates(rendered)
    assert set(updates) == {"github-actions", "pip", "pre-commit"}
    for update in updates.values():
        # The build jobs' cooldown too (tests/test_cooldown.py): one number, a week or more.
        assert update["cooldown"]["default-days"] == table("cooldown_days") >= 7
        assert update["groups"]
        assert update["schedule"]["interval"] == "weekly"
    ignored = [rule["dependency-name"] for rule in updates["github-actions"]["ignore"]]
    used = {m.group(1) for path in rendered.workflow_files() for m in uses_lines(path)}
    assert sorted(ignored) == sorted(used)
    # The same for the pip lines the template owns: [build-system] requires, the backend and any version
    # plugin (then the dev group's pins: the test below).
    pyproject = tomllib.loads(rendered.text("pyproject.toml"))
    backend = [Requirement(r).name for r in pyproject["build-system"]["requires"]]
    spec = table("backends")[rendered.answers["build_backend"]]
    plugins = spec["version_plugin"] if rendered.answers["version_source"] == "git-tag" else []
    binding = [spec["binding"]] if "binding" in spec else []  # an extension's nanobind
    assert backend == [Requirement(r).name for r in [spec["requires"], *binding, *plugins]]
    assert [rule["dependency-name"] for rule in updates["pip"]["ignore"]][: len(backend)] == backend


def dependabot_updates(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {u["package-ecosystem"]: u for u in load_yaml(rendered.github / "dependabot.yml")["updates"]}


def test_dependabot_leaves_template_hooks_to_copier_update(rendered: Rendered) -> None:
    """Bot bumps and `copier update` must not both edit the template's hook `rev:`s and dev-group pins."""
    updates = dependabot_updates(rendered)
    config = load_yaml(rendered.project / ".pre-commit-config.yaml")
    # Dependabot names a hook by its repository URL, and each additional_dependencies entry by its name;
    # a local hook (mypy, from the project's environment) has neither.
    installed = [
        Requirement(dep).name
        for repo in config["repos"]
        for hook in repo["hooks"]
        for dep in hook.get("additional_dependencies", [])
    ]
    pinned = [repo["repo"] for repo in config["repos"] if repo["repo"] != "local"] + installed
    assert [rule["dependency-name"] for rule in updates["pre-commit"]["ignore"]] == pinned
    # pip: the build backend (above), then exactly the dev group's `==` pins; the test group's
    # lower bounds stay Dependabot's.
    groups = tomllib.loads(rendered.text("pyproject.toml"))["dependency-groups"]
    exact = [Requirement(r).name for r in groups["dev"] if isinstance(r, str) and "==" in r]
    assert exact
    build_requires = tomllib.loads(rendered.text("pyproject.toml"))["build-system"]["requires"]
    assert [rule["dependency-name"] for rule in updates["pip"]["ignore"]][len(build_requires) :] == exact
    assert all(">=" in r and "==" not in r for r in groups["test"]), groups["test"]


# --- Template sources and this repository's own workflow -------------------------------------

RAW_BLOCK = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.DOTALL)


def expressions_outside_raw(source: str) -> list[str]:
    """GitHub `${{ ... }}` that Jinja would try to render (it must sit in {% raw %} blocks)."""
    return re.findall(r"\$\{\{[^\n]*", RAW_BLOCK.sub("", source))


def test_expression_scanner_is_live() -> None:
    assert expressions_outside_raw("run: echo ${{ github.ref }}") == ["${{ github.ref }}"]
    assert expressions_outside_raw("x: {% raw %}${{ github.ref }}{% endraw %}") == []


def test_github_expressions_in_templates_are_raw() -> None:
    sources = [*(TEMPLATE_ROOT / "template").rglob("*.jinja"), *(TEMPLATE_ROOT / "includes").rglob("*.jinja")]
    with_expressions = [p for p in sources if "${{" in p.read_text(encoding="utf-8")]
    assert len(with_expressions) >= 2  # publish.yml and ci.yml: the scan reads real files
    offenders = {
        str(p.relative_to(TEMPLATE_ROOT)): found
        for p in sources
        if (found := expressions_outside_raw(p.read_text(encoding="utf-8")))
    }
    assert not offenders


def test_template_repository_workflow_is_pinned_and_clean() -> None:
    root = TEMPLATE_ROOT / ".github"
    paths = sorted((root / "workflows").glob("*.yml"))
    assert [p.name for p in paths] == ["tests.yml"]
    for path in paths:
        assert assert_pins_match_table(path)
    run([tool("zizmor"), "--offline", "--persona", "pedantic", "--no-config", root])
    result = check_schema("vendor.github-workflows", *paths)
    assert result.exit_code == 0, result.output


BAD_WORKFLOW = """\
name: bad
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@v7
      - run: echo "${{ github.event.release.tag_name }}"
"""


def test_linters_catch_a_bad_workflow(tmp_path: Path) -> None:
    """Proof that the clean results above come from live checks, not from checks that never fail."""
    github = tmp_path / ".github" / "workflows"
    github.mkdir(parents=True)
    (github / "bad.yml").write_text(BAD_WORKFLOW, encoding="utf-8")
    # zizmor skips a file the schema rejects, so the schema check gets its own broken copy.
    (tmp_path / "invalid.yml").write_text(BAD_WORKFLOW.replace("id-token: write", "id-token: writ"), encoding="utf-8")
    zizmor = zizmor_pedantic(tmp_path / ".github")
    assert zizmor.returncode == 14, zizmor.stderr  # 14: the worst finding is high severity
    found = {finding["ident"] for finding in json.loads(zizmor.stdout)}
    assert {"template-injection", "unpinned-uses", "artipacked"} <= found
    schema = check_schema("vendor.github-workflows", tmp_path / "invalid.yml")
    assert schema.exit_code == 1, schema.output
    assert "$.jobs.publish.permissions['id-token']" in schema.output, schema.output


# --- Slow: the generated steps on a generated project ---------------------------------------
# It builds on its own: the workflow's own build steps are the subject under test.


def render_with_dependency(dst: Path) -> Path:
    """A generated library at 0.3.0 that needs a distribution only PyPI has (idna).

    uv-build: the steps under test are the same for every backend, and its isolated build
    environment installs in a fraction of setuptools' time (test_building covers setuptools).
    """
    # import_name `cli`: a common top-level name, which check-wheel-contents accepts once declared.
    project = render_project(
        dst / "acme-verify", {"version": "0.3.0", "build_backend": "uv-build", "import_name": "cli"}
    )
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("dependencies = []", 'dependencies = ["idna>=3"]'), encoding="utf-8")
    return project


@pytest.mark.slow
def test_release_build_and_ci_steps_run_on_a_generated_project(tmp_path: Path) -> None:
    project = render_with_dependency(tmp_path)
    venv = tmp_path / "venv"
    run([tool("uv"), "venv", "--quiet", "--seed", "--python", PYTHON, venv])  # --seed: the steps call pip
    build = load_yaml(project / ".github/workflows/publish.yml")["jobs"]["build"]

    outputs = run_job_steps(build, project, venv / "bin", {"${{ github.event.release.tag_name }}": "v0.3.0"})
    assert outputs == "version=0.3.0\n"
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        "acme_verify-0.3.0-py3-none-any.whl",
        "acme_verify-0.3.0.tar.gz",
    ]

    (guard_step,) = [s for s in steps(build) if "check_release_version.py" in s.get("run", "")]
    with pytest.raises(AssertionError, match=r"release tag 'v0.3.1' does not match version '0.3.0' in pyproject.toml"):
        run_job_steps(
            {"steps": [guard_step]}, project, venv / "bin", {"${{ github.event.release.tag_name }}": "v0.3.1"}
        )

    tests = load_yaml(project / ".github/workflows/ci.yml")["jobs"]["tests"]
    assert run_job_steps(tests, project, venv / "bin", {}) == ""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["library", "meta-package"])
def test_lint_job_type_checks_with_the_projects_dependencies(tmp_path: Path, kind: str) -> None:
    """The whole lint job, as a runner runs it, on a project that imports a typed dependency: mypy
    finds it (the job installs the project, a meta-package with its extras, beside the checkers)."""
    project = render_importing_a_typed_dependency(tmp_path, kind)
    venv = tmp_path / "venv"
    run([tool("uv"), "venv", "--quiet", "--seed", "--python", PYTHON, venv])  # --seed: the steps call pip
    lint = load_yaml(project / ".github/workflows/ci.yml")["jobs"]["lint"]
    assert any(s.get("run") == "mypy" for s in steps(lint))
    cache = {"MYPY_CACHE_DIR": str(project_mypy_cache(project))}  # the job installs the dev group's mypy
    assert run_job_steps(lint, project, venv / "bin", {}, extra_env=cache) == ""
