"""Generated GitHub workflows read as data: a rendered workflow case, its workflows, jobs and steps."""

from __future__ import annotations

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
