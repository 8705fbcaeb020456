"""pre-commit: the generated .pre-commit-config.yaml is valid for pre-commit and prek, its hooks pass
on every variant and catch broken files, its pins come from copier.yml's `hooks` table, and CI's lint
job runs the same checks.

The hook repositories cannot be cloned here (no network but package registries), so the hooks run as
local hooks: each with the entry its repository's .pre-commit-hooks.yaml declares (MANIFESTS), the
ids, args and file filters the generated config gives, and the tool from the project's own dev
dependency group (support.envs.dev_environment), at the version the hook pins. The generated config's own
local hook (mypy, `uv run mypy`) runs as generated: uv makes the project's environment from PyPI.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scenarios import VARIANTS, render_importing_a_typed_dependency, variant_project
from support.clients import project_mypy_cache
from support.config import PYTHON_VERSIONS, table
from support.envs import dev_environment, install_into, make_venv
from support.proc import PYTHON, commit_new_repo, git, run, tool
from support.render import load_answers
from support.sharing import shared_folder, shared_once

HOOKS = table("hooks")
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"  # the Python `uv run` uses here
# What each hook's repository declares for it (.pre-commit-hooks.yaml at the pinned tag), minus
# `language: python` (here: the tool from the dev group) and the descriptive fields.
MANIFESTS: dict[str, dict[str, Any]] = {
    "check-added-large-files": {"entry": "check-added-large-files"},
    "check-case-conflict": {"entry": "check-case-conflict"},
    "check-merge-conflict": {"entry": "check-merge-conflict", "types": ["text"]},
    "check-toml": {"entry": "check-toml", "types": ["toml"]},
    "check-yaml": {"entry": "check-yaml", "types": ["yaml"]},
    "end-of-file-fixer": {"entry": "end-of-file-fixer", "types": ["text"]},
    "mixed-line-ending": {"entry": "mixed-line-ending", "types": ["text"]},
    "trailing-whitespace": {"entry": "trailing-whitespace-fixer", "types": ["text"]},
    "ruff-check": {"entry": "ruff check --force-exclude", "types_or": ["python", "pyi", "jupyter"],
                   "require_serial": True},
    "ruff-format": {"entry": "ruff format --force-exclude", "types_or": ["python", "pyi", "jupyter"],
                   "require_serial": True},
    "codespell": {"entry": "codespell", "types": ["text"]},
    "validate-pyproject": {"entry": "validate-pyproject", "files": "^pyproject.toml$"},
    "check-github-workflows": {"entry": "check-jsonschema --builtin-schema vendor.github-workflows",
                               "files": r"^\.github/workflows/[^/]+$", "types": ["yaml"]},
    "check-dependabot": {"entry": "check-jsonschema --builtin-schema vendor.dependabot",
                         "files": r"^\.github/dependabot\.(yml|yaml)$", "types": ["yaml"]},
    "check-renovate": {"entry": "check-jsonschema --builtin-schema vendor.renovate --regex-variant nonunicode",
                       "files": r"^(renovate\.(json|json5)|\.(github|gitlab)/renovate\.(json|json5)"
                                r"|\.renovaterc(\.json)?)$"},
    "zizmor": {"entry": "zizmor", "args": ["--no-progress"], "types": ["yaml"], "require_serial": True,
               "files": r"(\.github/(workflows/.*|dependabot.ya?ml))|(action\.ya?ml)$"},
}  # fmt: skip
# Hooks that only fix whitespace, line endings and the like: CI's lint job leaves them to the hooks.
FILE_HOOKS_REPO = HOOKS["pre-commit-hooks"]["repo"]
RESULT = re.compile(r"^(?P<id>[a-z-]+)\.{2,}.*?(?P<status>Passed|Failed|Skipped)$", re.MULTILINE)


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(request: pytest.FixtureRequest) -> Path:
    # The renders tests/test_quality.py checks (same keys): made once per run.
    return variant_project(request.param)


def load_config(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))


def configured_hooks(project: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(repo["repo"], hook) for repo in load_config(project)["repos"] for hook in repo["hooks"]]


def hook_tool(repo: str, hook: dict[str, Any]) -> str:
    """The command a hook runs: its manifest's entry, or a local hook's own (`uv run [options] mypy`)."""
    return shlex.split(hook["entry"])[-1] if repo == "local" else shlex.split(MANIFESTS[hook["id"]]["entry"])[0]


def install_target(project: Path) -> str:
    """What CI installs the project as: with every extra (`all`) where it has extras."""
    return '".[all]"' if "all" in pyproject(project)["project"].get("optional-dependencies", {}) else "."


def pyproject(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


# --- The configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("runner", ["pre-commit", "prek"])
def test_configs_are_valid_for_the_runner(runner: str) -> None:
    """Every variant's config in one call (the runner validates each file it is given)."""
    configs = [variant_project(v) / ".pre-commit-config.yaml" for v in VARIANTS]
    proc = subprocess.run(
        [tool(runner), "validate-config", *map(str, configs)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning" not in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr


@pytest.mark.parametrize("runner", ["pre-commit", "prek"])
def test_validate_config_refuses_a_broken_config(tmp_path: Path, runner: str) -> None:
    """The check above is live: a repository without `rev` is refused."""
    (tmp_path / "bad.yaml").write_text(
        f"repos:\n  - repo: {HOOKS['ruff']['repo']}\n    hooks:\n      - id: ruff-check\n"
    )
    proc = subprocess.run(
        [tool(runner), "validate-config", "bad.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "rev" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_hook_revisions_come_from_the_table(project: Path) -> None:
    """Every hook repository at the table's tag; mypy is a local hook, whose table entry pins the dev
    group's mypy (the release its repository's tag names)."""
    repos = load_config(project)["repos"]
    assert [(r["repo"], r["rev"]) for r in repos if r["repo"] != "local"] == [
        (h["repo"], h["rev"]) for n, h in HOOKS.items() if n != "mypy"
    ]
    assert [hook["id"] for r in repos if r["repo"] == "local" for hook in r["hooks"]] == ["mypy"]


def python_min(project: Path) -> str:
    return pyproject(project)["project"]["requires-python"].removeprefix(">=")


def checkers_python(project: Path) -> str:
    """The oldest Python every pinned checker installs on, and python_min."""
    return max(
        [python_min(project), *(h["python"] for h in HOOKS.values() if "python" in h)], key=PYTHON_VERSIONS.index
    )


def test_dev_group_pins_each_hook_tool_at_the_hook_version(project: Path) -> None:
    """`==` the hook's tag; a checker that needs a newer Python than python_min is marked so, since
    uv resolves the group for every Python the project supports. The test group is pytest, and
    coverage for a library (ci.yml's tests job measures it)."""
    toml = pyproject(project)
    groups = toml["dependency-groups"]
    assert groups["dev"][0] == {"include-group": "test"}
    library = load_answers(project)["project_kind"] == "library"
    assert groups["test"] == (["pytest>=9", "coverage[toml]>=7.10"] if library else ["pytest>=9"])
    pins = [Requirement(r) for r in groups["dev"][1:]]
    expected = []
    for hook in HOOKS.values():
        newer = "python" in hook and PYTHON_VERSIONS.index(hook["python"]) > PYTHON_VERSIONS.index(python_min(project))
        marker = f"; python_version >= '{hook['python']}'" if newer else ""
        expected.append(Requirement(f"{hook['package']}=={hook['rev'].removeprefix('v')}{marker}"))
    if python_min(project) == "3.10":  # mypy checks the release script's Python 3.10 branch: its tomli import
        expected.append(Requirement("tomli>=2"))
    if toml["build-system"]["build-backend"] == "mesonpy":
        # `uv sync` builds it in .venv (tests/test_extension.py): the build requirements and ninja.
        name = canonicalize_name(load_answers(project)["project_name"])
        assert toml["tool"]["uv"] == {"no-build-isolation-package": [name]}
        expected += [Requirement(r) for r in [*toml["build-system"]["requires"], "ninja>=1.8.2"]]
    assert pins == expected


def test_mypy_hook_checks_what_ci_checks(project: Path) -> None:
    """Every [tool.mypy] file, not only the staged ones, in the project's own environment (`uv run`:
    the dev group, the project and its dependencies, with every extra where CI installs them)."""
    ((repo, mypy),) = [(repo, hook) for repo, hook in configured_hooks(project) if hook["id"] == "mypy"]
    assert repo == "local"
    assert mypy["language"] == "system"
    extras = ["--extra", "all"] if install_target(project) != "." else []
    assert shlex.split(mypy["entry"]) == ["uv", "run", *extras, "mypy"]
    assert mypy["pass_filenames"] is False
    assert mypy["require_serial"] is True
    assert mypy["types_or"] == ["python", "pyi"]
    assert not {"args", "additional_dependencies"} & set(mypy)


def test_every_configured_hook_has_its_manifest(project: Path) -> None:
    assert {hook["id"] for repo, hook in configured_hooks(project) if repo != "local"} == set(MANIFESTS)


# --- Running the hooks ----------------------------------------------------------------------------


def local_config(project: Path, bin_dir: Path) -> dict[str, Any]:
    """The generated config as local hooks: manifest entries, the config's own keys, the dev group's tools."""
    hooks = []
    for repo, hook in configured_hooks(project):
        if repo == "local" and PYTHON_VERSIONS.index(python_min(project)) <= PYTHON_VERSIONS.index(RUNNING):
            hooks.append(hook)  # as generated: `uv run` makes the project's environment with this Python
            continue
        if repo == "local":  # uv would need the project's newer Python, which this machine may lack
            hooks.append({**hook, "entry": str(bin_dir / hook_tool(repo, hook))})
            continue
        manifest = MANIFESTS[hook["id"]]
        own = {k: v for k, v in hook.items() if k != "additional_dependencies"}  # installed by the dev group
        entry = shlex.split(manifest["entry"])
        hooks.append({"name": hook["id"], "language": "system", **manifest, **own,
                      "entry": shlex.join([str(bin_dir / entry[0]), *entry[1:]])})  # fmt: skip
    return {"repos": [{"repo": "local", "hooks": hooks}]}


def committed_copy(project: Path, work: Path) -> Path:
    """A copy of `project` in `work`, committed to a new git repository (the runners list files with git)."""
    return commit_new_repo(shutil.copytree(project, work / project.name), "generated")


def run_hooks(
    runner: str, project: Path, work: Path, hook: str | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], Path]:
    """`<runner> run [hook] --all-files` on a committed copy of `project`: (process, {hook id: status}, copy)."""
    copy = work / project.name
    if not copy.exists():
        committed_copy(project, work)
    config = work / "local-hooks.yaml"
    config.write_text(yaml.safe_dump(local_config(project, dev_environment(project))), encoding="utf-8")
    # zizmor stays offline; `uv run` makes the copy's own .venv (not this run's VIRTUAL_ENV), with
    # this run's Python rather than one it would download.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_")) and k != "VIRTUAL_ENV"}
    env |= {"PRE_COMMIT_HOME": str(work / "pre-commit-home"), "PREK_HOME": str(work / "prek-home"),
            "MYPY_CACHE_DIR": str(project_mypy_cache(project)), "UV_PYTHON": PYTHON,
            "UV_PYTHON_DOWNLOADS": "never"}  # fmt: skip
    only = [hook] if hook else []
    proc = subprocess.run([tool(runner), "run", *only, "--all-files", "--config", str(config)], cwd=copy, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    return proc, {m["id"]: m["status"] for m in RESULT.finditer(proc.stdout)}, copy


# The configuration differs between variants only in the mypy hook's `--extra all` (a meta-package
# with extras) and in what the hooks find (src/ or none, odd text): each runner on the variants that
# differ, and on a project importing a typed dependency below.
# test_quality and test_workflows run the same tools on every variant (ruff, mypy, zizmor, schemas).
OLDEST_LIBRARY, NEWEST_META, ODD = (
    f"library-{PYTHON_VERSIONS[0]}",
    f"meta-{PYTHON_VERSIONS[-1]}",
    f"library-odd-names-{PYTHON_VERSIONS[-1]}",
)
RUNS = [pytest.param("prek", OLDEST_LIBRARY, id=f"prek-{OLDEST_LIBRARY}"),
        pytest.param("prek", NEWEST_META, id=f"prek-{NEWEST_META}"),
        pytest.param("pre-commit", ODD, id=f"pre-commit-{ODD}")]  # fmt: skip
assert {OLDEST_LIBRARY, NEWEST_META, ODD} <= set(VARIANTS)


@pytest.mark.slow
@pytest.mark.parametrize(("runner", "variant"), RUNS)
def test_hooks_pass_and_change_nothing(runner: str, variant: str, tmp_path: Path) -> None:
    project = variant_project(variant)
    proc, results, copy = run_hooks(runner, project, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    renovate = "Passed" if (project / "renovate.json").is_file() else "Skipped"
    assert results == {
        hook["id"]: renovate if hook["id"] == "check-renovate" else "Passed" for _, hook in configured_hooks(project)
    }
    assert git(copy, "status", "--porcelain") == ""  # the fixers found nothing to fix


@pytest.fixture(scope="module")
def codespell() -> tuple[str, Path]:
    """codespell as every variant's dev group pins it (the hooks table's version), in one environment
    per run: a dev group per variant cost 4 to 5 s each, for the one tool this module runs alone."""
    hook = HOOKS["codespell"]
    requirement = f"{hook['package']}=={hook['rev'].removeprefix('v')}"

    def make(root: Path) -> None:
        install_into(make_venv(root), requirement)

    return requirement, shared_once(shared_folder() / "codespell" / hook["rev"], make) / "bin" / "codespell"


@pytest.mark.slow
def test_codespell_passes_on_every_variant(project: Path, codespell: tuple[str, Path]) -> None:
    """The one hook tool no other module runs on every variant (answers reach README, LICENSE...)."""
    requirement, program = codespell
    dev = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["dependency-groups"]["dev"]
    assert requirement in dev  # the codespell `uv run` would run, [tool.codespell] read the same way
    proc = subprocess.run([program], cwd=project, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("runner", "kind"), [("prek", "library"), ("pre-commit", "library"), ("prek", "meta-package")])
def test_mypy_hook_sees_the_projects_typed_dependencies(runner: str, kind: str, tmp_path: Path) -> None:
    """Code that imports a typed dependency (a library's [project] dependency, a meta-package's extra)
    passes the mypy hook, with both runners, as it passes CI's lint job (tests/test_workflows.py)."""
    project = render_importing_a_typed_dependency(tmp_path / "render", kind)
    proc, results, copy = run_hooks(runner, project, tmp_path, hook="mypy")  # the others: test_hooks_pass...
    assert results == {"mypy": "Passed"}, proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (copy / ".venv").is_dir()  # the hook as generated: `uv run` made the project's environment


BROKEN = {
    "README.md": "Trailing space \nand no final newline",
    # A mutable default (ruff's B006, not fixed automatically), a type error, a misspelling.
    "src/demo_pkg/broken.py": (
        "def half(x: int, seen: list[int] = []) -> int:\n    return x / 2 + len(seen)  # recieve\n"
    ),
    # Valid for the schema, unpinned for zizmor (which skips files the schema rejects: one each).
    ".github/workflows/unpinned.yml": "name: bad\non: push\njobs:\n  bad:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - uses: actions/checkout@v7\n",
    ".github/workflows/invalid.yml": "name: bad\non: push\njobs:\n  bad:\n    runs-on: ubuntu-latest\n"
    "    permissions:\n      id-token: writ\n    steps:\n      - run: 'true'\n",
}


@pytest.mark.slow
def test_hooks_catch_broken_files(tmp_path: Path) -> None:
    """The runs above are live: each kind of breakage fails its hook."""
    variant = next(iter(VARIANTS))
    project = variant_project(variant)
    copy = committed_copy(project, tmp_path)
    for relative, content in BROKEN.items():
        (copy / relative).write_text(content, encoding="utf-8")
    pyproject_toml = copy / "pyproject.toml"  # a misspelt [project] key
    pyproject_toml.write_text(
        pyproject_toml.read_text(encoding="utf-8").replace("\nreadme = ", "\nreadmee = "), encoding="utf-8"
    )
    git(copy, "add", "--all")
    proc, results, _ = run_hooks("prek", project, tmp_path)
    assert proc.returncode == 1
    failed = {hook for hook, status in results.items() if status == "Failed"}
    assert failed == {"end-of-file-fixer", "trailing-whitespace", "ruff-check", "codespell", "mypy",
                      "validate-pyproject", "check-github-workflows", "zizmor"}, proc.stdout  # fmt: skip


# --- CI's lint job --------------------------------------------------------------------------------


def lint_job(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))["jobs"]["lint"]


def test_lint_job_runs_every_checking_hook_tool(project: Path) -> None:
    """Each hook but the file fixers has a CI step running its tool; the job installs the dev group
    and the project as the tests job does (a meta-package with its extras), so mypy sees its imports."""
    steps = [s for s in lint_job(project)["steps"] if "run" in s]
    install = f"python -m pip install --group dev {install_target(project)}"
    assert steps[0]["run"].splitlines() == ['python -m pip install "pip>=25.1"', install]
    ci = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    tests_install = [s["run"] for s in ci["jobs"]["tests"]["steps"] if "--group test" in s.get("run", "")]
    assert [r.splitlines()[-1].replace("--group test", "--group dev") for r in tests_install] == [install]
    commands = {line.split()[0] for s in steps[1:] for line in s["run"].splitlines()}
    tools = {hook_tool(repo, hook) for repo, hook in configured_hooks(project) if repo != FILE_HOOKS_REPO}
    assert commands == tools
    (python,) = [
        s["with"]["python-version"] for s in lint_job(project)["steps"] if "with" in s and "python-version" in s["with"]
    ]
    assert python == checkers_python(project)


@pytest.mark.slow
def test_dev_group_resolves_for_python_min_without_the_newer_checkers(tmp_path: Path) -> None:
    """`uv run` resolves the group for every supported Python: uv finds a solution on the oldest
    offered Python with PyPI's releases, leaving out exactly the checkers marked as needing a newer
    one (their Requires-Python comes from PyPI). On newer Pythons dev_environment installs them all."""
    variant = next(v for v in VARIANTS if v.endswith(f"-{PYTHON_VERSIONS[0]}"))
    project = variant_project(variant)
    # --no-python-downloads: never fetch an interpreter.
    proc = run([tool("uv"), "pip", "compile", "--quiet", "--no-header", "--no-python-downloads",
                "--group", f"{project / 'pyproject.toml'}:dev", "--python-version", PYTHON_VERSIONS[0]],
               cwd=tmp_path)  # fmt: skip
    resolved = {Requirement(line.split(" ")[0]).name for line in proc.stdout.splitlines() if "==" in line}
    checkers = {Requirement(h["package"]).name for h in HOOKS.values()}
    assert checkers - resolved == {Requirement(h["package"]).name for h in HOOKS.values() if "python" in h}
