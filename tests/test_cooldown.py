"""The build jobs' cooldown: pip installs only releases PyPI has had for a week (PIP_UPLOADED_PRIOR_TO).

An extension's wheels get it through [tool.cibuildwheel] (tests/test_wheels_workflow.py), the
manual release's build through scripts/release_check.py (UV_EXCLUDE_NEWER or PIP_UPLOADED_PRIOR_TO,
whichever installer build runs, when that installer reads durations).

Every job that builds or checks the release files has it, with the pip upgrade that can read it
first; no job that installs the uploaded release has it (it is minutes old). The slow test runs the
release build job's own steps against a local index whose build backend has a release from last
month and one from an hour ago: the build uses last month's, and without the job's `env:` the new one.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scenarios import workflow_cases
from support.builds import build_environment, build_stand_in
from support.clients import install_uv
from support.config import table
from support.envs import cache_dirs
from support.index import LocalIndex, serve_index
from support.proc import PYTHON, run, tool
from support.render import render_once
from support.sharing import shared_folder, shared_once
from support.workflows import Rendered, render_workflow_case, run_job_steps, steps

# includes/tables/release_tools.yml: the days Dependabot waits too.
COOLDOWN = {"PIP_UPLOADED_PRIOR_TO": f"P{table('cooldown_days')}D"}
PIP_UPGRADE = 'env -u PIP_UPLOADED_PRIOR_TO python -m pip install "pip>=26.1"'


def builds_or_installs_tools(job: dict[str, Any]) -> bool:
    """A job that builds the distributions or installs the tools that check them."""
    runs = [s.get("run", "") for s in steps(job)]
    return any("python -m build" in r or "twine" in r for r in runs) and not installs_the_release(job)


def installs_the_release(job: dict[str, Any]) -> bool:
    return any("verify_upload.py" in s.get("run", "") for s in steps(job))


@pytest.fixture(scope="module", params=workflow_cases())
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render_workflow_case(request.param)


def test_every_build_job_cools_down_and_upgrades_pip_first(rendered: Rendered) -> None:
    cooled = []
    for path in rendered.workflow_files():
        workflow = rendered.workflow(path.name)
        # Never for the whole workflow: the verify jobs install the release uploaded minutes before.
        assert "env" not in workflow, path.name
        for name, job in workflow["jobs"].items():
            if installs_the_release(job):
                assert "PIP_UPLOADED_PRIOR_TO" not in job.get("env", {}), f"{path.name}: {name}"
                assert all("PIP_UPLOADED_PRIOR_TO" not in s.get("env", {}) for s in steps(job)), f"{path.name}: {name}"
            if not builds_or_installs_tools(job):
                continue
            cooled.append(f"{path.name}:{name}")
            assert job.get("env") == COOLDOWN, f"{path.name}: {name}"
            pip_lines = [line.strip() for s in steps(job) for line in s.get("run", "").splitlines() if " pip " in line]
            # The runner's own pip may be older than 26.1: 26.0 refuses P7D, older ones ignore it.
            assert pip_lines[0] == PIP_UPGRADE, f"{path.name}: {name}: {pip_lines}"
            assert PIP_UPGRADE not in pip_lines[1:], f"{path.name}: {name}"
    expected = {"ci.yml:build", "publish.yml:build"}
    if rendered.answers["project_kind"] == "extension":
        expected.add("publish.yml:sdist")
    assert set(cooled) == expected
    # RELEASING.md's troubleshooting names exactly these jobs ("`publish.yml`'s `sdist` and `build` jobs").
    text = " ".join(rendered.text("RELEASING.md").split())
    (named,) = re.findall(r"\(`PIP_UPLOADED_PRIOR_TO: P\d+D` on ([^)]*)\)", text)
    documented = {
        f"{workflow}:{job}"
        for workflow, jobs in re.findall(r"`([\w-]+\.yml)`'s ((?:`[\w-]+`(?:,? and |, )?)+) jobs?", named)
        for job in re.findall(r"`([\w-]+)`", jobs)
    }
    assert documented == set(cooled), named


# --- A build backend with a release from last month and one from an hour ago ----------------------

BACKEND = '''"""probe-backend {version}: builds probe-project at its own version, so dist/ names the backend used."""
import io, os, tarfile, zipfile

NAME, VERSION = "probe_project", "{version}"
WHEEL = "Wheel-Version: 1.0\\nGenerator: probe\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
if VERSION != "1.0":
    raise SystemExit("probe-backend {version} was published an hour ago: the cooldown lets no such release in")


def build_sdist(sdist_directory, config_settings=None):
    base = f"{{NAME}}-{{VERSION}}"
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as tar:
        for name in ("pyproject.toml", "PKG-INFO"):
            data = open(name, "rb").read() if name == "pyproject.toml" else _metadata()
            info = tarfile.TarInfo(f"{{base}}/{{name}}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return base + ".tar.gz"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    info = f"{{NAME}}-{{VERSION}}.dist-info"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as whl:
        whl.writestr(f"{{info}}/METADATA", _metadata())
        whl.writestr(f"{{info}}/WHEEL", WHEEL)
        whl.writestr(f"{{info}}/RECORD", "")
    return name


def _metadata():
    return f"Metadata-Version: 2.1\\nName: probe-project\\nVersion: {{VERSION}}\\n".encode()
'''


def wheel(version: str) -> Path:
    """probe-backend's wheel at `version`, built by flit-core as the rehearsal's stand-ins are, once per run."""
    code = BACKEND.format(version=version)
    root = shared_once(shared_folder() / "probe-backend" / version,
                       lambda root: build_stand_in(root, "probe-backend", version, code=code), inputs=code)  # fmt: skip
    (built,) = (root / "dist").glob("*.whl")
    return built


def probe_project(dst: Path) -> Path:
    dst.mkdir()
    (dst / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["probe-backend"]\nbuild-backend = "probe_backend"\n', encoding="utf-8"
    )
    return dst


def ago(**delta: float) -> str:
    return (datetime.datetime.now(datetime.UTC) - datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextlib.contextmanager
def probe_index() -> Iterator[tuple[LocalIndex, Path]]:
    """A local index serving probe-backend 1.0, uploaded 30 days ago, and 2.0, an hour ago; with 1.0's wheel."""
    with serve_index() as index:
        month_old, hour_old = wheel("1.0"), wheel("2.0")
        index.publish(month_old, hour_old)
        index.upload_times.update({month_old.name: ago(days=30), hour_old.name: ago(hours=1)})
        yield index, month_old


@pytest.mark.slow
def test_release_build_uses_only_a_week_old_backend(tmp_path: Path) -> None:
    """The publish build job of a library, its own steps and env, on a runner whose pip is 26.0
    (it knows the variable but not durations): the tools from PyPI under the cooldown, then the
    build step against a local index holding probe-backend 1.0 (30 days old) and 2.0 (an hour old,
    and it refuses to build)."""
    job = release_build_job()
    venv = tmp_path / "venv"
    run([PYTHON, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "pip==26.0.1"])
    # Why the upgrade runs without the variable: pip 26.0 exits 2 on P7D.
    unguarded = PIP_UPGRADE.removeprefix("env -u PIP_UPLOADED_PRIOR_TO ")
    with pytest.raises(AssertionError, match=r"exit 2\n(.|\n)*--uploaded-prior-to error: invalid value: 'P7D'"):
        run_job_steps(
            {"env": job["env"], "steps": [{"name": "unguarded", "run": unguarded}]}, tmp_path, venv / "bin", {}
        )
    (install,) = [s for s in steps(job) if s["name"] == "Install the build and check tools"]
    (build,) = [s for s in steps(job) if s["name"] == "Build the sdist and the wheel"]
    # The step's pip upgrade, then `build` alone of its tools: the whole step, twine and
    # check-wheel-contents too, runs under the cooldown in tests/test_workflows.py's build-job test.
    upgrade, tools = install["run"].splitlines()
    assert upgrade == PIP_UPGRADE
    (build_tool,) = [t for t in tools.split() if t.startswith('"build')]
    upgrade_and_build = {"name": install["name"], "run": f"{upgrade}\npython -m pip install {build_tool}"}
    run_job_steps({"env": job["env"], "steps": [upgrade_and_build]}, tmp_path, venv / "bin", {})
    assert pip_version(venv) >= (26, 1)

    with probe_index() as (index, month_old):
        local = {"PIP_INDEX_URL": index.simple}

        cooled = probe_project(tmp_path / "cooled")
        run_job_steps({"env": job["env"], "steps": [build]}, cooled, venv / "bin", {}, extra_env=local)
        assert sorted(p.name for p in (cooled / "dist").iterdir()) == [
            "probe_project-1.0-py3-none-any.whl",
            "probe_project-1.0.tar.gz",
        ]
        fetched = [p for p in index.log if p.startswith("/files/")]
        assert fetched, index.log
        assert set(fetched) == {f"/files/{month_old.name}"}, index.log

        # The same step without the job's env: pip takes the newest release, which stops the build.
        fresh = probe_project(tmp_path / "fresh")
        with pytest.raises(AssertionError, match=r"probe-backend 2\.0 was published an hour ago"):
            run_job_steps({"steps": [build]}, fresh, venv / "bin", {}, extra_env=local)


def release_build_job() -> dict[str, Any]:
    (case,) = [c.values[0] for c in workflow_cases() if c.id == "testpypi-library-setuptools"]
    return render_workflow_case(case).workflow("publish.yml")["jobs"]["build"]


def pip_version(venv: Path) -> tuple[int, ...]:
    version = run([venv / "bin" / "python", "-m", "pip", "--version"]).stdout.split()[1]
    return tuple(int(part) for part in version.split(".")[:2])


# --- The manual release: scripts/release_check.py's build step ------------------------------------
# The step alone, as the script runs it, in the probe project (the other steps need a real one).
CALL_BUILD = (
    "import sys; sys.path.insert(0, 'scripts'); import release_check\n"
    "result = release_check.build()\n"
    "print('PASS' if result.ok else 'FAIL', result.summary, *result.details, sep='\\n')"
)
OLD_UV = "0.9.16"  # the last uv before durations: UV_EXCLUDE_NEWER=P7D is an error there


@pytest.mark.slow
@pytest.mark.client
def test_manual_release_check_builds_with_a_week_old_backend(tmp_path: Path) -> None:
    """The release check's build step under each installer build may run: pip 26.1+ and uv 0.9.17+
    take the month-old backend; a uv too old to read durations still builds (with the newest
    backend, and says so) instead of failing on the variable; and the uv checked is the one build
    runs, the `uv` package's, even when $UV names another."""
    script = render_once("build-defaults", {}) / "scripts" / "release_check.py"
    # pip 26.1 or later and build, without the `uv` package (build would run that package's uv).
    pip_env = build_environment(["pip>=26.1"])
    old_uv = install_uv(OLD_UV)
    with probe_index() as (index, month_old):
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("UV_", "PIP_", "PYTEST_")) and k not in ("UV", "VIRTUAL_ENV")
        }
        base |= cache_dirs() | {
            "PATH": "/usr/bin:/bin",
            "PIP_INDEX_URL": index.simple,
            "UV_DEFAULT_INDEX": index.simple,
        }

        def release_check_build(name: str, python: Path | str, **env: str) -> tuple[list[str], list[str]]:
            project = probe_project(tmp_path / name)
            (project / "scripts").mkdir()
            shutil.copy(script, project / "scripts")
            index.log.clear()
            proc = run([python, "-c", CALL_BUILD], cwd=project, env=base | env)
            dist = project / "dist"
            built = sorted(p.name for p in dist.iterdir()) if dist.is_dir() else []
            return proc.stdout.splitlines(), built

        cooled = ["probe_project-1.0-py3-none-any.whl", "probe_project-1.0.tar.gz"]
        days = table("cooldown_days")
        lines, built = release_check_build("pip", pip_env)
        assert lines[2] == f"build requirements: releases {days} days old or more (PIP_UPLOADED_PRIOR_TO=P{days}D)"
        assert (lines[0], built) == ("PASS", cooled), lines
        assert {p for p in index.log if p.startswith("/files/")} == {f"/files/{month_old.name}"}, index.log

        lines, built = release_check_build("uv", pip_env, UV=tool("uv"))
        assert lines[0] == "PASS", "\n".join(lines)
        assert lines[2] == f"build requirements: releases {days} days old or more (UV_EXCLUDE_NEWER=P{days}D)"
        assert (lines[0], built) == ("PASS", cooled), lines

        # uv 0.9.16 refuses the variable outright: the build runs without it and says so.
        refused = subprocess.run(
            [old_uv, "pip", "compile", "-"], input="", capture_output=True, text=True, check=False,
            env=base | {"UV_EXCLUDE_NEWER": f"P{days}D"},
        )  # fmt: skip
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"'P{days}D'" in refused.stderr, refused.stderr
        lines, built = release_check_build("old-uv", pip_env, UV=str(old_uv))
        assert lines[0] == "FAIL", lines
        assert (
            lines[2]
            == f"build requirements: the newest releases, no cooldown: uv {OLD_UV} is older than 0.9.17; upgrade it"
        )
        assert any("probe-backend 2.0 was published an hour ago" in line for line in lines), lines

        # With the `uv` package installed (the test venv has it), build runs its uv, whatever $UV says.
        lines, built = release_check_build("uv-package", PYTHON, UV=str(old_uv))
        assert lines[2] == f"build requirements: releases {days} days old or more (UV_EXCLUDE_NEWER=P{days}D)"
        assert (lines[0], built) == ("PASS", cooled), lines
