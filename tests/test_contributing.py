"""CONTRIBUTING.md: a developer's commands (uv sync, the tests, CI's lint checks through `uv run`,
the documentation site's build), the same as ci.yml and docs.yml run, and each runs as printed in a
generated library (the site's build: tests/test_docs_site.py)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from scenarios import workflow_cases
from support.clients import project_mypy_cache
from support.pages import console_blocks
from support.render import render_project
from support.workflows import Rendered, render_workflow_case, steps


def console_lines(text: str) -> list[str]:
    """Every line of every console block, in order."""
    return [line for block in console_blocks(text) for line in block.splitlines()]


@pytest.fixture(scope="module", params=workflow_cases())
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render_workflow_case(request.param)


def test_the_checks_are_ci_lint_jobs_through_uv_run(rendered: Rendered) -> None:
    """Each check the lint job runs, as a local `uv run` command (annotations aside), and the tests
    as the tests job runs them; nothing else."""
    lint = rendered.workflow("ci.yml")["jobs"]["lint"]
    install, *checks = [s["run"] for s in steps(lint) if "run" in s]
    assert "--group dev" in install
    ci = [line.replace(" --output-format github", "") for run in checks for line in run.splitlines()]
    tests = [
        line for s in steps(rendered.workflow("ci.yml")["jobs"]["tests"]) for line in s.get("run", "").splitlines()
    ]
    coverage = [line.removeprefix("python -m ") for line in tests if line.startswith("python -m coverage ")]
    # The environment CI's lint job has: its Python (some checkers need one newer than python_min),
    # and the project with every extra it installs, which the tests and mypy import.
    (setup,) = [s for s in steps(lint) if s.get("uses", "").startswith("actions/setup-python@")]
    python = setup["with"]["python-version"]
    extra = " --extra all" if '".[all]"' in install else ""
    sync = "uv sync" + (f" --python {python}" if python != rendered.answers["python_min"] else "") + extra
    expected = [sync, f"uv run{extra} pytest", *(f"uv run {c}" for c in coverage if "--format=markdown" not in c)]
    expected += [f"uv run{extra if c == 'mypy' else ''} {c}" for c in ci]
    if rendered.answers["docs_site"] != "none":  # then the site's build, as docs.yml runs it
        build = rendered.workflow("docs.yml")["jobs"]["build"]
        expected += [f"uv run --group docs {s['run']}" for s in steps(build) if "sphinx-build" in s.get("run", "")]
    assert console_lines(rendered.text("CONTRIBUTING.md")) == expected


@pytest.mark.slow
def test_every_command_runs_as_printed(tmp_path: Path) -> None:
    """In a generated library, from `uv sync` on: each exits 0, and the tests ran."""
    project = render_project(tmp_path / "demo-pkg", {})
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["MYPY_CACHE_DIR"] = str(project_mypy_cache(project))  # its standard library, checked once per machine
    outputs = []
    for line in console_lines((project / "CONTRIBUTING.md").read_text(encoding="utf-8")):
        proc = subprocess.run(["bash", "-c", line], cwd=project, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        outputs.append(proc.stdout)
    assert re.search(r"^=+ \d+ passed", outputs[1], re.MULTILINE), outputs[1]
    assert (project / ".venv").is_dir()
