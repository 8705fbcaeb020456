"""Shell the template and the fleet ship passes shellcheck: every `run:` step of every workflow case
(what actionlint would hand shellcheck, in the shell GitHub runs it in: bash, also on Windows),
fleet/rollout.sh and this repository's .ci/run (scripts/setup_github.sh: tests/test_setup_github.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scenarios import workflow_cases
from support.checkers import shellcheck
from support.config import TEMPLATE_ROOT
from support.workflows import Rendered, render_workflow_case, steps


def runners(job: dict[str, Any]) -> list[str]:
    """The runner labels a job runs on: its `runs-on`, or the values of the matrix key it names
    (`${{ matrix.os }}`), listed and from `include`."""
    match = re.fullmatch(r"\$\{\{ matrix\.([\w-]+) \}\}", job["runs-on"])
    if not match:
        return [job["runs-on"]]
    matrix = job["strategy"]["matrix"]
    key = match.group(1)
    return [*matrix.get(key, []), *(entry[key] for entry in matrix.get("include", []) if key in entry)]


def shell_of(workflow: dict[str, Any], job: dict[str, Any], step: dict[str, Any]) -> str:
    """The shell GitHub runs a step in: the step's, the job's or the workflow's default, else bash on
    Linux and macOS and PowerShell on Windows."""
    for scope in (step, job.get("defaults", {}).get("run", {}), workflow.get("defaults", {}).get("run", {})):
        if "shell" in scope:
            return str(scope["shell"])
    return "pwsh" if any(label.startswith("windows") for label in runners(job)) else "bash"


@pytest.mark.parametrize("case", workflow_cases())
def test_every_run_step_is_bash_that_passes_shellcheck(case: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    rendered: Rendered = render_workflow_case(case)
    scripts = []
    for path in rendered.workflow_files():
        workflow = rendered.workflow(path.name)
        for job_name, job in workflow["jobs"].items():
            for index, step in enumerate(steps(job)):
                if "run" not in step:
                    continue
                # A Windows leg without `shell: bash` would run the step in PowerShell.
                assert shell_of(workflow, job, step) == "bash", (path.name, job_name, step.get("name"))
                # Named after its place, which shellcheck's report then gives.
                scripts.append(tmp_path / f"{path.stem}.{job_name}.step-{index + 1}.sh")
                scripts[-1].write_text(step["run"], encoding="utf-8")
    assert len(scripts) >= 5  # the build, check and verify steps at least
    proc = shellcheck(*scripts)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", ["fleet/rollout.sh", ".ci/run"])
def test_repository_scripts_pass_shellcheck(script: str) -> None:
    proc = shellcheck(TEMPLATE_ROOT / script)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shellcheck_reports_what_it_is_here_to_find(tmp_path: Path) -> None:
    """The check can fail: an unquoted expansion (SC2086), at the severity the tests use."""
    script = tmp_path / "bad.sh"
    script.write_text('files="a b"\nrm $files\n', encoding="utf-8")
    proc = shellcheck(script)
    assert proc.returncode == 1
    assert "SC2086" in proc.stdout


def test_a_windows_leg_without_bash_is_found() -> None:
    """A step of a job with a Windows runner and no `shell: bash` runs in PowerShell: the check sees it."""
    job: dict[str, Any] = {"runs-on": "${{ matrix.runner }}", "strategy": {"matrix": {"runner": ["windows-latest"]}}}
    assert shell_of({}, job, {"run": "echo"}) == "pwsh"
    included = {"os": ["ubuntu-latest"], "include": [{"os": "windows-latest", "python-version": "3.11"}]}
    assert runners({"runs-on": "${{ matrix.os }}", "strategy": {"matrix": included}}) == [
        "ubuntu-latest",
        "windows-latest",
    ]
    assert shell_of({}, {**job, "defaults": {"run": {"shell": "bash"}}}, {"run": "echo"}) == "bash"
    assert shell_of({}, {"runs-on": "ubuntu-latest"}, {"run": "echo"}) == "bash"
