"""The trusted-publisher identity is a contract: no template release renames the workflow file
that uploads, or an upload job's environment, or moves an environment to another index.

PyPI matches each upload's OIDC claims (repository, workflow file name, environment) against the
registered publisher, and will flag a provenance that changed between releases: one template
release that renamed either would stop every project's next release with `invalid-publisher`.
So every kind of project is rendered at every release tag of this repository, and at the working
tree, and each consecutive pair must agree; the first release is compared with what docs/publishing.md
tells users to register. A tagless clone compares the working tree with that documentation alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios import make_template_repo, workflow_cases
from support.config import TEMPLATE_ROOT
from support.proc import git
from support.releases import release_tags
from support.render import render_project
from support.workflows import load_yaml, render_workflow_case

# What docs/publishing.md ("Trusted publishers on PyPI and TestPyPI") has users register.
DOCUMENTED = {
    ("publish.yml", "testpypi", "https://test.pypi.org/legacy/"),
    ("publish.yml", "pypi", "https://upload.pypi.org/legacy/"),
}
PYPI_UPLOAD = "https://upload.pypi.org/legacy/"  # the publish action's default repository-url
# One answer set per kind of project: library or meta-package, with and without TestPyPI.
KINDS = {case.values[0][0]: case.values[0][1] for case in workflow_cases() if case.values[0][0].endswith("setuptools")}

Identity = set[tuple[str, str, str]]


def identity(project: Path) -> Identity:
    """(workflow file, environment, index) of every job that may ask for an upload token."""
    found = set()
    for path in sorted((project / ".github" / "workflows").glob("*.y*ml")):
        for job in load_yaml(path)["jobs"].values():
            if (job.get("permissions") or {}).get("id-token") != "write":
                continue
            environment = job.get("environment")
            name = environment["name"] if isinstance(environment, dict) else environment
            uploads = [s for s in job["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
            found |= {(path.name, str(name), s.get("with", {}).get("repository-url", PYPI_UPLOAD)) for s in uploads}
    return found


def documented(answers: dict[str, Any]) -> Identity:
    return {entry for entry in DOCUMENTED if answers.get("use_testpypi", True) or entry[1] != "testpypi"}


def at_tag(repo: Path, tag: str, root: Path) -> Callable[[str, dict[str, Any]], Identity]:
    return lambda kind, answers: identity(render_project(root / tag / kind, answers, src=str(repo), vcs_ref=tag))


def working_tree(kind: str, answers: dict[str, Any]) -> Identity:
    return identity(render_workflow_case((kind, answers)).project)


def changes(refs: list[tuple[str, Callable[[str, dict[str, Any]], Identity]]]) -> list[str]:
    """Every change of identity between consecutive refs, for every kind; the chain starts at the docs."""
    found = []
    for kind, answers in KINDS.items():
        chain = [("docs/publishing.md", documented(answers))] + [(label, get(kind, answers)) for label, get in refs]
        for (old_label, old), (new_label, new) in itertools.pairwise(chain):
            if old != new:
                found.append(f"{kind}: {old_label} -> {new_label}: {sorted(old - new)} became {sorted(new - old)}")
    return found


def test_working_tree_keeps_the_identity_of_the_newest_release(tmp_path: Path) -> None:
    tags = release_tags(TEMPLATE_ROOT)
    newest = [(tags[-1], at_tag(TEMPLATE_ROOT, tags[-1], tmp_path))] if tags else []
    assert changes([*newest, ("working tree", working_tree)]) == []


@pytest.mark.slow  # renders every kind at every release tag (copies from git)
def test_every_release_kept_the_identity_of_the_one_before(tmp_path: Path) -> None:
    tags = release_tags(TEMPLATE_ROOT)
    assert changes([(tag, at_tag(TEMPLATE_ROOT, tag, tmp_path)) for tag in tags]) == []


@pytest.mark.slow  # a template repository with two releases, rendered at each
def test_a_release_that_renames_an_environment_is_caught(tmp_path: Path) -> None:
    repo = make_template_repo(tmp_path / "pypi-template", tag="v1.0.0")
    workflow = repo / "template" / ".github" / "workflows" / "publish.yml.jinja"
    text = workflow.read_text(encoding="utf-8")
    assert text.count("      name: pypi\n") == 1
    workflow.write_text(text.replace("      name: pypi\n", "      name: release\n"), encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", "Rename the pypi environment")
    git(repo, "tag", "v1.1.0rc1")
    found = changes([(tag, at_tag(repo, tag, tmp_path / "renders")) for tag in release_tags(repo)])
    assert [line.split(":")[0] for line in found] == list(KINDS)
    assert all("v1.0.0 -> v1.1.0rc1" in line and "'release'" in line for line in found), found
