"""An extension's platform wheels: [tool.cibuildwheel] as cibuildwheel itself reads it, the wheels
job's legs and artifacts in publish.yml and ci.yml, the build job that gathers and checks them, and
the installs on every platform after each upload.

Rendering only: cibuildwheel runs offline here (`--print-build-identifiers`), but no container
engine can start on this machine and no macOS or Windows runner exists, so what the builds do is
for a real GitHub run to show (docs/decisions.md, "Platform wheels").
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import tomllib
import zipfile
from pathlib import Path
from typing import Any, Literal

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from scenarios import STABLE_ABI, workflow_cases
from support.clients import install_schema_store
from support.config import PYTHON_VERSIONS, table
from support.proc import tool
from support.wheels import record_row, run_wheel_check
from support.workflows import Rendered, action_repo, render_workflow_case, steps

ACTIONS = table("actions")
EXTENSION_CASES = [case for case in workflow_cases() if case.values[0][1].get("project_kind") == "extension"]
# cibuildwheel's platform tag in an identifier, by (platform, CIBW_ARCHS) of a leg.
IDENTIFIER_PLATFORMS = {
    ("linux", "x86_64"): "manylinux_x86_64",
    ("linux", "aarch64"): "manylinux_aarch64",
    ("macos", "arm64"): "macosx_arm64",
    ("macos", "x86_64"): "macosx_x86_64",
    ("windows", "AMD64"): "win_amd64",
}
# The runners each operating system's legs run on: Intel macOS until GitHub retires its last image.
RUNNERS = {
    "ubuntu-latest": ("linux", "x86_64"),
    "ubuntu-24.04-arm": ("linux", "aarch64"),
    "macos-latest": ("macos", "arm64"),
    "macos-15-intel": ("macos", "x86_64"),
    "windows-latest": ("windows", "AMD64"),
}


@pytest.fixture(scope="module", params=EXTENSION_CASES)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render_workflow_case(request.param)


def cibuildwheel(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """cibuildwheel from the test group, in `project`, with no CIBW_* variable but `env`'s."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    return subprocess.run(
        [tool("cibuildwheel"), *args],
        cwd=project,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def identifiers(project: Path, platform: str, archs: str, env: dict[str, str] | None = None) -> list[str]:
    proc = cibuildwheel(project, "--print-build-identifiers", "--platform", platform, "--archs", archs, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.split()


def wheel_legs(rendered: Rendered) -> list[dict[str, str]]:
    return rendered.workflow("publish.yml")["jobs"]["wheels"]["strategy"]["matrix"]["include"]


def expected_identifiers(answers: dict[str, Any], legs: list[tuple[str, str]]) -> set[str]:
    """CPython from python_min on, no free-threaded build, for every (platform, archs)."""
    pythons = PYTHON_VERSIONS[PYTHON_VERSIONS.index(answers["python_min"]) :]
    return {f"cp{v.replace('.', '')}-{IDENTIFIER_PLATFORMS[leg]}" for v in pythons for leg in legs}


def test_cibuildwheel_builds_every_supported_python_on_every_platform(rendered: Rendered) -> None:
    """cibuildwheel's own view of each leg (its CIBW_ARCHS on its platform) of the rendered pyproject."""
    legs = wheel_legs(rendered)
    assert [RUNNERS[leg["runner"]] for leg in legs] == [(leg["platform"], leg["archs"]) for leg in legs]
    found: dict[tuple[str, str], list[str]] = {}
    for leg in legs:
        found[leg["platform"], leg["archs"]] = identifiers(rendered.project, leg["platform"], leg["archs"])
    assert set(found) == set(IDENTIFIER_PLATFORMS), "Linux x86_64 and aarch64, macOS arm64 and x86_64, Windows"
    for leg, ids in found.items():
        assert set(ids) == expected_identifiers(rendered.answers, [leg]), leg
    assert not [i for ids in found.values() for i in ids if re.match(r"cp3\d+t-|.*musllinux", i)]


def test_ci_builds_the_oldest_python_on_each_operating_system(rendered: Rendered) -> None:
    wheels = rendered.workflow("ci.yml")["jobs"]["wheels"]
    legs = wheels["strategy"]["matrix"]["include"]
    assert [leg["runner"] for leg in legs] == ["ubuntu-latest", "macos-latest", "windows-latest"]
    (build,) = [s for s in steps(wheels) if action_repo(s) == ACTIONS["cibuildwheel"]["repo"]]
    assert build["env"]["CIBW_ARCHS"] == "${{ matrix.archs }}"
    assert wheels["permissions"] == {"contents": "read"}
    for leg in legs:
        platform, archs = RUNNERS[leg["runner"]]
        assert leg["archs"] == archs
        env = {"CIBW_BUILD": build["env"]["CIBW_BUILD"]}
        assert (
            identifiers(rendered.project, platform, archs, env)
            == sorted(expected_identifiers(rendered.answers, [(platform, archs)]))[:1]
        )


def test_cibuildwheel_refuses_an_unknown_key(rendered: Rendered, tmp_path: Path) -> None:
    """The identifiers above come from the rendered table: a misspelt key in it stops cibuildwheel."""
    text = rendered.text("pyproject.toml")
    assert "\n[tool.cibuildwheel]\n" in text
    (tmp_path / "pyproject.toml").write_text(
        text.replace("\n[tool.cibuildwheel]\n", "\n[tool.cibuildwheel]\nbogus-key = 1\n"), encoding="utf-8"
    )
    proc = cibuildwheel(tmp_path, "--print-build-identifiers", "--platform", "linux", "--archs", "x86_64")
    assert proc.returncode == 2
    assert "Option 'bogus-key' not supported in a config file." in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.client
def test_schema_store_validates_the_tool_tables(rendered: Rendered, tmp_path: Path) -> None:
    """validate-pyproject with validate-pyproject-schema-store: [tool.cibuildwheel] and
    [tool.scikit-build] as their schemas define them; a wrong value is refused (the plugin is live)."""
    pyproject = tomllib.loads(rendered.text("pyproject.toml"))
    cibw = pyproject["tool"]["cibuildwheel"]
    # Recorded choices (RELEASING.md): glibc 2.28 images, macOS 10.15 for Intel (arm64: 11.0).
    assert cibw["manylinux-x86_64-image"] == cibw["manylinux-aarch64-image"] == "manylinux_2_28"
    assert cibw["macos"]["environment"]["MACOSX_DEPLOYMENT_TARGET"] == "10.15"
    files = {"rendered.toml": rendered.text("pyproject.toml")}
    # The same file with one wrong value each, written as TOML the way a user would edit it.
    files["frontend.toml"] = files["rendered.toml"].replace(
        "[tool.cibuildwheel]\n", '[tool.cibuildwheel]\nbuild-frontend = "x"\n'
    )
    if "scikit-build" in pyproject["tool"]:
        files["skbuild.toml"] = files["rendered.toml"].replace(
            "[tool.scikit-build]\n", "[tool.scikit-build]\nwheel-x = 1\n"
        )
    for name, text in files.items():
        assert name == "rendered.toml" or text != files["rendered.toml"], name
        (tmp_path / name).write_text(text, encoding="utf-8")
    # One run for every file: the store's schemas are compiled once (about 8 s).
    proc = subprocess.run([install_schema_store(), *files], cwd=tmp_path, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Valid file: rendered.toml" in out
    assert "Invalid file: frontend.toml" in out
    assert "`tool.cibuildwheel.build-frontend` must be valid exactly by one definition" in out
    if "skbuild.toml" in files:
        assert "Invalid file: skbuild.toml" in out
        assert "`tool.scikit-build` must not contain {'wheel-x'} properties" in out


def expand(value: str, leg: dict[str, str]) -> str:
    """A matrix expression as GitHub evaluates it for one leg."""
    return re.sub(r"\$\{\{ matrix\.(\w+) \}\}", lambda m: leg[m.group(1)], value)


def test_every_legs_wheels_reach_the_one_upload(rendered: Rendered) -> None:
    """Each leg uploads an artifact of its own; the build job merges exactly the sdist and those into
    dist/, and uploads that as `dist`, the one artifact both publish jobs upload."""
    jobs = rendered.workflow("publish.yml")["jobs"]
    upload, download = ACTIONS["upload-artifact"]["repo"], ACTIONS["download-artifact"]["repo"]

    def uploads(job: str) -> list[dict[str, Any]]:
        return [s["with"] for s in steps(jobs[job]) if action_repo(s) == upload]

    (sdist,) = uploads("sdist")
    (wheels,) = uploads("wheels")
    assert (wheels["path"], wheels["if-no-files-found"]) == ("wheelhouse/*.whl", "error")
    (build_step,) = [s for s in steps(jobs["wheels"]) if action_repo(s) == ACTIONS["cibuildwheel"]["repo"]]
    assert build_step["with"]["output-dir"] == "wheelhouse"
    assert build_step["with"]["package-dir"] == "sdist/${{ needs.sdist.outputs.sdist }}"  # wheels from the sdist
    names = [sdist["name"], *(expand(wheels["name"], leg) for leg in wheel_legs(rendered))]
    assert len(set(names)) == len(names), names  # no two legs overwrite each other's artifact
    (gather,) = [s["with"] for s in steps(jobs["build"]) if action_repo(s) == download]
    assert gather == {"pattern": gather["pattern"], "path": "dist/", "merge-multiple": True}
    assert [n for n in names if not fnmatch.fnmatchcase(n, gather["pattern"])] == []
    published = [u for u in uploads("build") if u["name"] == "dist"]
    assert published == [{"name": "dist", "path": "dist/", "if-no-files-found": "error"}]
    other = [u["name"] for u in uploads("build") if u["name"] != "dist"]
    assert not [n for n in ["dist", *other] if fnmatch.fnmatchcase(n, gather["pattern"])]
    for name, job in jobs.items():
        if name.startswith("publish-"):
            assert [s["with"] for s in steps(job) if action_repo(s) == download] == [{"name": "dist", "path": "dist/"}]


def test_build_job_checks_every_file_before_upload(rendered: Rendered) -> None:
    jobs = rendered.workflow("publish.yml")["jobs"]
    assert jobs["sdist"]["permissions"] == jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["wheels"]["permissions"] == {}  # it builds from the sdist artifact: no checkout
    runs = [s["run"] for s in steps(jobs["build"]) if "run" in s]
    # A stable-ABI project (scikit-build-core's wheel.py-api) tags one abi3 wheel per platform.
    skb = tomllib.loads(rendered.text("pyproject.toml"))["tool"].get("scikit-build", {})
    stable_abi = "py-api" in skb.get("wheel", {})
    # The stable ABI: scikit-build-core (nanobind) from Python 3.12 (includes/computed.yml, stable_abi).
    abi3_python = Version(rendered.answers["python_min"]) >= Version(STABLE_ABI["python_min"])
    assert stable_abi is (rendered.answers["build_backend"] == "scikit-build-core" and abi3_python)
    name, wheel_name = rendered.answers["import_name"], wheel_file_name(rendered.answers)
    order = [
        "python -m twine check --strict dist/*",
        f"check-wheel-contents --toplevel {name},{wheel_name}.libs --ignore W010,W201 dist/*.whl",
        *(["abi3audit --strict --report dist/*-abi3-*.whl"] if stable_abi else []),
        'python .github/scripts/check_release_version.py --tag "${RELEASE_TAG}" --dist dist',
    ]
    assert [r for r in runs if r in order] == order
    assert ('"abi3audit' in runs[0]) is stable_abi  # installed with the check tools
    sdist_runs = [s["run"] for s in steps(jobs["sdist"]) if "run" in s]
    assert any(r.startswith("python -m build --sdist") for r in sdist_runs)
    assert "python -m twine check --strict sdist/*" in sdist_runs


def wheel_file_name(answers: dict[str, Any]) -> str:
    """The distribution's name as wheel file names spell it (PEP 427: normalised, `_` for `-`)."""
    return canonicalize_name(answers["project_name"]).replace("-", "_")


def windows_wheel(dest: Path, answers: dict[str, Any], extra: dict[str, bytes]) -> Path:
    """A wheel shaped as cibuildwheel leaves one on Windows: the import package with its compiled
    module and, as delvewheel adds it, the C++ runtime in <wheel name>.libs/; plus `extra` files."""
    name, package = wheel_file_name(answers), answers["import_name"]
    info = f"{name}-0.1.0.dist-info"
    files = {
        f"{package}/__init__.py": b"from ._core import add\n",
        f"{package}/_core.cp312-win_amd64.pyd": b"MZ\x90\x00",
        f"{name}.libs/msvcp140-0a1b2c3d.dll": b"MZ\x90\x00 msvcp140",
        f"{info}/METADATA": f"Metadata-Version: 2.4\nName: {answers['project_name']}\nVersion: 0.1.0\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-win_amd64\n",
        **extra,
    }
    record = [record_row(n, data) for n, data in files.items()] + [f"{info}/RECORD,,"]
    wheel = dest / f"{name}-0.1.0-cp312-cp312-win_amd64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for n, data in {**files, f"{info}/RECORD": "\n".join(record).encode() + b"\n"}.items():
            zf.writestr(n, data)
    return wheel


def test_wheel_check_takes_the_libs_folder_named_after_the_wheel(rendered: Rendered, tmp_path: Path) -> None:
    """delvewheel and auditwheel name the folder of vendored libraries after the wheel, whatever the
    import package is called (acme_core in acme_odd_tools...whl): the build job's check, as printed,
    takes it, and still fails a stray top-level folder."""
    (command,) = [s["run"] for s in steps(rendered.workflow("publish.yml")["jobs"]["build"])
                  if s.get("run", "").startswith("check-wheel-contents ")]  # fmt: skip
    (tmp_path / "dist").mkdir()
    wheel = windows_wheel(tmp_path / "dist", rendered.answers, {})
    proc = run_wheel_check(command, tmp_path)
    assert (proc.returncode, proc.stdout) == (0, f"dist/{wheel.name}: OK\n"), proc.stdout + proc.stderr
    windows_wheel(tmp_path / "dist", rendered.answers, {"stray/notes.txt": b"left behind\n"})
    proc = run_wheel_check(command, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "W202: Wheel library has undeclared toplevel entry:\n  stray/\n" in proc.stdout


def test_installs_from_each_index_on_every_wheel_platform(rendered: Rendered) -> None:
    """After each upload: the main verify job (ubuntu-latest: sha256, provenance, install, tests)
    and one install with the tests on every other runner the wheels were built on."""
    jobs = rendered.workflow("publish.yml")["jobs"]
    runners = {leg["runner"] for leg in wheel_legs(rendered)}
    indexes = ["testpypi", "pypi"] if rendered.answers["use_testpypi"] else ["pypi"]
    for index in indexes:
        main, others = jobs[f"verify-{index}"], jobs[f"verify-{index}-platforms"]
        assert {main["runs-on"], *others["strategy"]["matrix"]["runner"]} == runners
        assert others["runs-on"] == "${{ matrix.runner }}"
        assert others["permissions"] == {}
        assert others["defaults"] == {"run": {"shell": "bash"}}  # the same command on Windows
        (check,) = [s for s in steps(main) if "verify_upload.py" in s.get("run", "")]
        (install,) = [s for s in steps(others) if "verify_upload.py" in s.get("run", "")]
        # The same install and tests; the provenance once, in the main job.
        provenance = ' --repository "${REPOSITORY}" --workflow publish.yml --environment ' + index
        assert check["run"] == install["run"] + provenance
        assert install["env"] == {"VERSION": "${{ needs.build.outputs.version }}"}
        assert "--tests release-tests" in install["run"]


def test_every_wheel_build_environment_has_the_build_jobs_cooldown(rendered: Rendered) -> None:
    """cibuildwheel's own options for each leg: every build and test environment, on every platform,
    gets PIP_UPLOADED_PRIOR_TO (a platform's `environment` replaces the global one), and the build
    frontend is pip's `build`, which reads it (uv would not)."""
    from cibuildwheel.options import CommandLineArguments, compute_options

    cooldown = f"P{table('cooldown_days')}D"
    python = rendered.answers["python_min"].replace(".", "")
    platforms: tuple[Literal["linux", "macos", "windows"], ...] = ("linux", "macos", "windows")
    for (platform, _), tag in IDENTIFIER_PLATFORMS.items():
        (name,) = [p for p in platforms if p == platform]
        args = CommandLineArguments.defaults()
        args.package_dir = rendered.project
        args.platform = name
        options = compute_options(name, args, env={}).build_options(f"cp{python}-{tag}")
        environment = options.environment.as_dictionary(prev_environment={})
        assert environment["PIP_UPLOADED_PRIOR_TO"] == cooldown, f"{platform} {tag}: {environment}"
        assert options.build_frontend is not None
        assert options.build_frontend.name == "build", f"{platform} {tag}"


def test_each_backend_speaks_of_its_own_language(rendered: Rendered) -> None:
    """meson-python's extension is C and scikit-build-core's C++: no file of the C project, comments
    included, speaks of C++ (the shared [tool.cibuildwheel] text once did)."""
    speaking = sorted(
        str(path.relative_to(rendered.project))
        for path in rendered.project.rglob("*")
        if path.is_file() and ".git" not in path.parts and "C++" in path.read_text(encoding="utf-8")
    )
    if rendered.answers["build_backend"] == "meson-python":
        assert speaking == []
    else:
        assert {"CONTRIBUTING.md", "RELEASING.md", "pyproject.toml"} <= set(speaking), speaking
