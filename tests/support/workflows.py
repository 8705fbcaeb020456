"""Generated GitHub workflows read as data: a rendered workflow case, its workflows, jobs and steps."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support.proc import tool
from support.render import load_answers, render_once


def zizmor_pedantic(path: Path) -> subprocess.CompletedProcess[str]:
    """zizmor's pedantic audit of a workflow file or a .github folder, offline, no configuration, JSON."""
    args = [tool("zizmor"), "--offline", "--persona", "pedantic", "--no-config", "--format", "json", path]
    return subprocess.run(args, capture_output=True, text=True, check=False)


@dataclass(frozen=True)
class Rendered:
    project: Path
    answers: dict[str, Any]

    @property
    def github(self) -> Path:
        return self.project / ".github"

    def workflow_files(self) -> list[Path]:
        return sorted((self.github / "workflows").glob("*.yml"))

    def workflow(self, name: str) -> dict[str, Any]:
        return load_yaml(self.github / "workflows" / name)

    def text(self, relative: str) -> str:
        return (self.project / relative).read_text(encoding="utf-8")


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as the boolean True (YAML 1.1); give it its GitHub name back.
    if True in data:
        data["on"] = data.pop(True)
    return data


def render_workflow_case(case: tuple[str, dict[str, Any]]) -> Rendered:
    """A workflow case (scenarios.workflow_cases) rendered once per run, whichever module asks first."""
    # Once per run: xdist hands a case's tests to either worker, sometimes to one twice, apart.
    case_id, data = case
    project = render_once(f"workflows-{case_id}", data, name="acme-tools")
    return Rendered(project, load_answers(project))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def action_repo(step: dict[str, Any]) -> str | None:
    return step["uses"].split("@", 1)[0] if "uses" in step else None


def run_job_steps(
    job: dict[str, Any],
    project: Path,
    bin_dir: Path,
    expressions: dict[str, str],
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run a job's `run:` steps with bash as a runner would (the job's and each step's `env:`,
    GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files included); returns what they wrote to GITHUB_OUTPUT."""
    outputs = project.parent / "github_output"
    outputs.write_text("", encoding="utf-8")
    # Runners write bytecode: with PYTHONDONTWRITEBYTECODE every pip call imports pip from source.
    runner = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # Speed only: no up-front compile of every file pip installs (5 s); imports compile what they use.
    runner["PIP_COMPILE"] = "0"
    for step in steps(job):
        if "run" not in step:
            continue
        env = {**runner, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(outputs),
               "GITHUB_STEP_SUMMARY": str(project.parent / "step_summary"), **(extra_env or {})}  # fmt: skip
        # `${{ }}` only ever reaches a step through env: (tests/test_workflows.py); resolve the ones used.
        declared = {**job.get("env", {}), **step.get("env", {})}
        env |= {name: expressions[value] if "${{" in str(value) else str(value) for name, value in declared.items()}
        proc = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=project, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"{step['name']}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return outputs.read_text(encoding="utf-8")
