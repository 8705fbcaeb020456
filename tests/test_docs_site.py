"""The documentation site (docs_site): what docs.yml builds and where it publishes it, what the generated
documents say about it, and the site itself, built as the workflow builds it: strictly and offline.

Rendering only, except the `slow` builds at the end. zizmor and GitHub's schema run on docs.yml with the
other workflows (tests/test_workflows.py, its docs cases); `copier update --data docs_site=sphinx` is
tests/test_update_answers.py.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from readme_renderer.markdown import render as render_pypi_markdown

from scenarios import META_EXTRAS, matrix_case_answers
from support.builds import build_once
from support.envs import docs_environment, install_target
from support.render import load_answers, render_once, render_project
from support.workflows import action_repo, load_yaml, steps

# A default branch and an owner with capitals: Pages serves <owner, lowercased>.github.io/<repository>/.
DOCS_ANSWERS = {
    "project_name": "acme.tools",
    "github_owner": "Acme-Corp",
    "repository_name": "Acme-Tools",
    "default_branch": "trunk",
    "docs_site": "sphinx",
}
SITE_URL = "https://acme-corp.github.io/Acme-Tools/"


def docs_workflow(project: Path) -> dict[str, Any]:
    return load_yaml(project / ".github" / "workflows" / "docs.yml")


def build_command(project: Path) -> str:
    """The command docs.yml builds the site with."""
    build = docs_workflow(project)["jobs"]["build"]
    (command,) = [s["run"] for s in steps(build) if "sphinx-build" in s.get("run", "")]
    return command


def uses(job: dict[str, Any]) -> list[str | None]:
    return [action_repo(step) for step in steps(job) if "uses" in step]


# --- Rendering -----------------------------------------------------------------------------------


def test_docs_workflow_builds_every_change_and_publishes_the_default_branch() -> None:
    project = render_once("docs-site", DOCS_ANSWERS, name="acme-tools")
    workflow = docs_workflow(project)
    assert workflow["on"] == {"push": {"branches": ["trunk"]}, "pull_request": None, "workflow_dispatch": None}
    assert workflow["permissions"] == {}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert set(workflow["jobs"]) == {"build", "deploy"}
    # Least privilege: the build reads the repository; only the deploy writes, to Pages.
    assert build["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert (deploy["needs"], deploy["if"]) == ("build", "github.ref == 'refs/heads/trunk'")
    assert deploy["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert uses(build) == ["actions/checkout", "actions/setup-python", "actions/upload-pages-artifact"]
    assert uses(deploy) == ["actions/configure-pages", "actions/deploy-pages"]
    assert steps(build)[0]["with"] == {"persist-credentials": False}
    # Warnings are errors (-W), every reference must resolve (-n), and all of them are reported.
    args = shlex.split(build_command(project))
    assert args[0] == "sphinx-build"
    assert {"-W", "--keep-going", "-n"} <= set(args)
    source, output = args[-2:]
    assert (project / source / "conf.py").is_file()
    (upload,) = [s for s in steps(build) if action_repo(s) == "actions/upload-pages-artifact"]
    assert upload["with"] == {"path": output}
    # The output is ignored by git already (/build/), so a local build leaves nothing to commit.
    assert output.startswith("build/")
    assert "/build/" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_generated_documents_point_at_the_site() -> None:
    project = render_once("docs-site", DOCS_ANSWERS, name="acme-tools")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Documentation"] == SITE_URL
    assert all(">=" in r for r in pyproject["dependency-groups"]["docs"])
    assert "PY004" not in pyproject["tool"]["repo-review"]["ignore"]
    assert "docs" in pyproject["tool"]["mypy"]["files"]
    assert f"<{SITE_URL}>" in (project / "README.md").read_text(encoding="utf-8")
    releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
    section = releasing.split("\n## Documentation site\n", 1)[1].split("\n## ", 1)[0]
    assert SITE_URL in section
    assert "**Settings → Pages**" in section
    assert "**GitHub Actions**" in section
    # The local build is CONTRIBUTING.md's (RELEASING.md links it): the workflow's, in the docs
    # group's environment.
    assert "sphinx-build" not in section
    assert "[CONTRIBUTING.md](CONTRIBUTING.md#documentation)" in section
    contributing = (project / "CONTRIBUTING.md").read_text(encoding="utf-8")
    docs = contributing.split("\n## Documentation\n", 1)[1].split("\n## ", 1)[0]
    assert "publishes it from `trunk`" in docs
    (line,) = [line for line in docs.splitlines() if "sphinx-build" in line]
    assert line == f"uv run --group docs {build_command(project)}"


@pytest.mark.parametrize(
    ("owner", "repository", "url"),
    [("Acme-Corp", "acme-corp.github.io", "https://acme-corp.github.io/"),
     ("ada", "Ada.GitHub.io", "https://ada.github.io/"),
     ("ada", "ada.github.io-docs", "https://ada.github.io/ada.github.io-docs/")],
)  # fmt: skip
def test_a_user_site_repository_is_served_at_the_root(tmp_path: Path, owner: str, repository: str, url: str) -> None:
    """GitHub Pages serves the repository named <owner>.github.io (in any case) at the root of the host."""
    data = {"github_owner": owner, "repository_name": repository, "docs_site": "sphinx"}
    project = render_project(tmp_path / "demo-pkg", data)
    assert (
        tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Documentation"]
        == url
    )


def test_without_a_site_nothing_of_it_is_generated() -> None:
    project = render_once("build-defaults", {})
    assert not (project / "docs").exists()
    assert not (project / ".github" / "workflows" / "docs.yml").exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert "Documentation" not in pyproject["project"]["urls"]
    assert "docs" not in pyproject["dependency-groups"]
    assert "PY004" in pyproject["tool"]["repo-review"]["ignore"]
    assert "pages" not in (project / ".github" / "dependabot.yml").read_text(encoding="utf-8")


# --- Slow: the site built as docs.yml builds it ----------------------------------------------

GREET = '''

def greet(name: str) -> str:
    """Say hello to *name*{extra}: the greeting the documentation shows.

    Args:
        name: who to greet.
    """
    return f"hello {{name}}"
'''
# Every fetch Sphinx makes (intersphinx, images) goes through requests, which honours these: none may succeed.
OFFLINE = dict.fromkeys(
    ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"), "http://127.0.0.1:9"
)


def render_with_greet(dst: Path, extra: str = "") -> Path:
    """A library (uv-build: the quickest to install) whose package exports a documented function."""
    project = render_project(dst / "acme-docs", {"docs_site": "sphinx", "build_backend": "uv-build"})
    init = project / "src" / "acme_docs" / "__init__.py"
    text = init.read_text(encoding="utf-8")
    assert text.count('__all__ = ["__version__"]') == 1, text
    text = text.replace('__all__ = ["__version__"]', '__all__ = ["__version__", "greet"]')
    init.write_text(text + GREET.format(extra=extra), encoding="utf-8")
    return project


def build_site(project: Path, work: Path, installed: Path | None = None) -> subprocess.CompletedProcess[str]:
    """docs.yml's build command, run as written in `project` beside the docs group and the installed
    project (as the workflow installs them; `installed`: a wheel of it instead), with no network."""
    bin_dir = docs_environment(project)
    site = install_target(installed or project, work / "site-packages")
    env = {**os.environ, **OFFLINE, "NO_PROXY": "", "no_proxy": ""}
    env |= {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(site)}
    return subprocess.run(
        ["bash", "-e", "-c", build_command(project)], cwd=project, env=env, capture_output=True, text=True, check=False
    )


def page_text(project: Path, page: str) -> str:
    source = (project / "build" / "docs" / page).read_text(encoding="utf-8")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", source)))


@pytest.mark.slow
def test_library_site_builds_strictly_offline_with_the_api_reference(tmp_path: Path) -> None:
    project = render_with_greet(tmp_path)
    proc = build_site(project, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "build succeeded." in proc.stdout
    api = (project / "build" / "docs" / "api.html").read_text(encoding="utf-8")
    # autodoc's own markup (an entry per object), not the reStructuredText as text.
    assert 'id="acme_docs.greet"' in api
    assert ".. py:" not in api
    assert "Say hello to name : the greeting the documentation shows." in page_text(project, "api.html")
    assert "pip install acme-docs" in page_text(project, "index.html")  # README.md, the landing page


@pytest.mark.slow
def test_meta_package_site_lists_the_extras(tmp_path: Path) -> None:
    """Every extra in the table, an odd one's marker too (| and ` would end a cell or a code span), and
    an odd description as typed: MyST reads a leading % as a comment, Sphinx's smart quotes would
    turn -- into a dash, a URL is a link (an uppercase scheme's would be a missing cross-reference)."""
    extras = {**META_EXTRAS, "odd": ['acme-odd; platform_version == "a|b`c"']}
    description = '% of "fast" tools -- and more... https://example.com/~user/files_ (see HTTPS://X.ORG/~a)'
    data = {"docs_site": "sphinx", "build_backend": "uv-build", "project_kind": "meta-package", "extras": extras}
    project = render_project(tmp_path / "acme-meta", {**data, "description": description})
    proc = build_site(project, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = page_text(project, "extras.html")
    for name, requirements in extras.items():
        assert f"{name} {' , '.join(requirements)}" in page, page
    assert 'pip install "acme-meta[all]"' in page
    index = (project / "build" / "docs" / "index.html").read_text(encoding="utf-8")
    paragraphs = [html.unescape(re.sub(r"<[^>]+>", "", p)) for p in re.findall(r"<p>(.*?)</p>", index, re.DOTALL)]
    assert description in paragraphs
    assert 'href="https://example.com/~user/files"' in index
    readme = render_pypi_markdown((project / "README.md").read_text(encoding="utf-8")) or ""
    cells = [html.unescape(cell) for cell in re.findall(r"<td><code>(.*?)</code></td>", readme)]
    assert cells[cells.index("odd") + 1] == extras["odd"][0], cells


@pytest.mark.slow
@pytest.mark.parametrize("case", ["meson-python-extension", "scikit-build-core-git-tag"])
def test_extension_site_documents_the_compiled_function(case: str, tmp_path: Path) -> None:
    """Each extension backend's site, with the wheel the suite built once installed (docs.yml compiles
    the project on its runner): the compiled add() is in the API reference, with its docstring."""
    built, dists = build_once(case, matrix_case_answers(case))
    project = shutil.copytree(built, tmp_path / "project", symlinks=True, ignore=shutil.ignore_patterns("dist"))
    proc = build_site(project, tmp_path, installed=dists.wheel)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "build succeeded." in proc.stdout
    import_name = load_answers(project)["import_name"]
    assert f'id="{import_name}.add"' in (project / "build" / "docs" / "api.html").read_text(encoding="utf-8")
    api = page_text(project, "api.html")
    assert f"{import_name}. add (" in api
    assert "Return a + b." in api


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "warning"),
    [(", as :func:`nowhere` does", "WARNING: py:func reference target not found: nowhere"),
     (", **unclosed", "WARNING: Inline strong start-string without end-string.")],
    ids=["unresolved-reference", "broken-markup"],
)  # fmt: skip
def test_a_docstring_warning_fails_the_build(tmp_path: Path, extra: str, warning: str) -> None:
    """-n makes an unresolved reference a warning, -W every warning an error: the build exits 1."""
    project = render_with_greet(tmp_path, extra)
    proc = build_site(project, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert warning in proc.stderr, proc.stderr


@pytest.mark.slow
def test_contributing_local_build_runs_as_printed(tmp_path: Path) -> None:
    """CONTRIBUTING.md's `uv run --group docs sphinx-build ...`, typed in the project folder; then its
    `uv run codespell`, which the site's bundled CSS and JavaScript (misspelt words) must not fail."""
    project = render_with_greet(tmp_path)
    contributing = (project / "CONTRIBUTING.md").read_text(encoding="utf-8")
    (line,) = [line for line in contributing.splitlines() if line.startswith("uv run --group docs ")]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    proc = subprocess.run(["bash", "-e", "-c", line], cwd=project, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'id="acme_docs.greet"' in (project / "build" / "docs" / "api.html").read_text(encoding="utf-8")
    (line,) = [line for line in contributing.splitlines() if line.startswith("uv run codespell")]
    proc = subprocess.run(["bash", "-e", "-c", line], cwd=project, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
