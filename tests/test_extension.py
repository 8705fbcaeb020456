"""Compiled extensions (project_kind: extension): each backend's project builds once from a git
checkout (sdist, then the wheel from the sdist), is repaired to a manylinux tag, passes twine and
wheel checks (abi3audit where the stable ABI is on), installs on this machine's CPythons, and its
own tests pass against the installed wheel; its sources compile with no warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.metadata import Metadata
from packaging.tags import parse_tag

from scenarios import FIX_STEP, NEW_SHA, TAG_B, make_project, matrix_case_answers, matrix_cases, update_template
from support.builds import (
    Dists,
    build_environment,
    build_once,
    build_requires,
    build_sdist,
    check_wheel_contents,
    command_tests_passed,
    extension_python,
    twine_check,
)
from support.envs import find_python, install_into, make_venv
from support.pages import code_blocks
from support.proc import commit_new_repo, git, run, tool
from support.release_check import load_script
from support.render import load_answers, project_files, render_project
from support.updating import WORKFLOW, assert_merged_cleanly, copier_cli, workflow_steps
from support.wheels import retag, run_wheel_check

pytestmark = pytest.mark.slow

CASES = [case_id for case_id, answers in matrix_cases() if answers.get("project_kind") == "extension"]
# The policies repaired to: C links no versioned libc symbol; C++ needs this host's libstdc++
# (GLIBCXX_3.4.29). Given explicitly: auditwheel cannot tell the libc of an abi3 module alone.
PLATFORM = {"meson-python": "manylinux_2_17_x86_64", "scikit-build-core": "manylinux_2_34_x86_64"}
# The CPythons the wheels install on here, at most two (the suite's budget).
PYTHONS = ["3.11", "3.12", "3.13"]


@pytest.fixture(scope="module", params=CASES)
def built(request: pytest.FixtureRequest) -> tuple[Path, dict[str, Any], Dists]:
    """Each backend's extension built once per run (build_once: shared by every worker)."""
    project, dists = build_once(request.param, matrix_case_answers(request.param))
    return project, load_answers(project), dists


@pytest.fixture(scope="module")
def repaired(built: tuple[Path, dict[str, Any], Dists], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`auditwheel repair` of the built wheel, into a folder outside the project."""
    _, answers, dists = built
    out = tmp_path_factory.mktemp("wheelhouse")
    plat = PLATFORM[answers["build_backend"]]
    run([tool("auditwheel"), "repair", "--plat", plat, "--wheel-dir", out, dists.wheel])
    (wheel,) = out.glob("*.whl")
    return wheel


def wheel_tags(wheel: Path) -> set[str]:
    return {str(tag) for tag in parse_tag(wheel.name.removesuffix(".whl").split("-", 2)[2])}


def test_wheel_is_tagged_for_its_abi_and_repaired_to_manylinux(
    built: tuple[Path, dict[str, Any], Dists], repaired: Path
) -> None:
    _, answers, dists = built
    version = answers["python_min"].replace(".", "")
    abi = (
        "abi3"
        if answers["build_backend"] == "scikit-build-core" and answers["python_min"] >= "3.12"
        else f"cp{version}"
    )
    assert wheel_tags(dists.wheel) == {f"cp{version}-{abi}-linux_x86_64"}
    assert f"cp{version}-{abi}-{PLATFORM[answers['build_backend']]}" in wheel_tags(repaired)
    name = answers["import_name"]
    suffix = ".abi3.so" if abi == "abi3" else f".cpython-{version}-x86_64-linux-gnu.so"
    with zipfile.ZipFile(repaired) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]  # meson's wheel lists its folder too
    files = {n for n in names if not n.split("/")[0].endswith((".dist-info", ".libs"))}
    expected = {f"{name}/__init__.py", f"{name}/_core.pyi", f"{name}/py.typed", f"{name}/_core{suffix}"}
    if answers["command_name"]:
        expected.add(f"{name}/__main__.py")
    assert files == expected


def test_twine_and_wheel_contents_pass(built: tuple[Path, dict[str, Any], Dists], repaired: Path) -> None:
    _, answers, dists = built
    passed, output = twine_check(dists.sdist, repaired)
    assert passed, output
    assert output.count("PASSED") == 2, output
    code, output = check_wheel_contents("--toplevel", answers["import_name"], repaired)
    assert (code, f"{repaired}: OK") == (0, output.strip().splitlines()[-1]), output
    meta = Metadata.from_email(dists.wheel_metadata_bytes(), validate=True)
    assert (meta.metadata_version, meta.license_expression, meta.name) == ("2.4", "MIT", answers["project_name"])


def release_check_command(project: Path) -> str:
    """publish.yml's wheel check, as printed in its build job (every platform's wheels, gathered)."""
    (command,) = [s["run"] for s in workflow_steps(project) if s.get("run", "").startswith("check-wheel-contents ")]
    return command


def test_release_wheel_check_takes_the_libraries_a_repair_vendors(
    built: tuple[Path, dict[str, Any], Dists], repaired: Path, tmp_path: Path
) -> None:
    """The build job's check-wheel-contents, as printed, over a release's wheels: the repaired Linux
    wheel, and a Windows one as delvewheel leaves it when the module needs the C++ runtime (the DLL,
    renamed, in a top-level <wheel name>.libs/). A stray top-level folder still fails the release."""
    project, _, _ = built
    wheel_name, _, python, abi = repaired.name.split("-")[:4]
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(repaired, dist)
    retag(repaired, f"{python}-{abi}-win_amd64", dist, {f"{wheel_name}.libs/msvcp140-0a1b2c3d.dll": b"MZ\x90\x00"})
    command = release_check_command(project)
    proc = run_wheel_check(command, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": OK") == 2, proc.stdout
    stray = retag(repaired, f"{python}-{abi}-macosx_11_0_arm64", dist, {"stray/notes.txt": b"left behind\n"})
    proc = run_wheel_check(command, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"dist/{stray.name}: W202: Wheel library has undeclared toplevel entry:\n  stray/\n" in proc.stdout


# The release check's install step on the wheels in argv[2], by the script in argv[1]: its result.
INSTALL_STEP = """
import importlib.util, pathlib, sys
spec = importlib.util.spec_from_file_location("release_check", sys.argv[1])
script = sys.modules["release_check"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
script.DIST = pathlib.Path(sys.argv[2])
result = script.install()
print(result.ok, result.summary, *result.details, sep="\\n")
"""


def test_release_check_imports_the_extension_it_built(
    built: tuple[Path, dict[str, Any], Dists], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scripts/release_check.py on an extension's local build: the wheel-contents step declares the
    import package and the install step imports it, so a wheel whose package fails to import fails.
    The install step runs on a Python the script's `requires-python` admits, as `uv run` picks one."""
    project, answers, dists = built
    name = answers["import_name"]
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(dists.wheel, dist)
    script = load_script(project)
    monkeypatch.setattr(script, "DIST", dist)
    contents = script.wheel_contents()
    assert contents.ok, contents.details
    install = [extension_python(project), "-c", INSTALL_STEP, project / "scripts" / "release_check.py", dist]
    ok, summary, *details = run(install).stdout.splitlines()
    assert (ok, summary.startswith(f"imported {name} from {answers['project_name']} ")) == ("True", True), summary
    # The same wheel, its package importing a name the compiled module lacks.
    with zipfile.ZipFile(dists.wheel) as zf:
        init = zf.read(f"{name}/__init__.py") + f"from {name}._core import missing\n".encode()
    (dist / dists.wheel.name).unlink()
    retag(dists.wheel, dists.wheel.name.removesuffix(".whl").split("-", 2)[2], dist, {f"{name}/__init__.py": init})
    ok, summary, *details = run(install).stdout.splitlines()
    assert (ok, summary) == ("False", "the wheel does not install and load cleanly"), details
    assert any("ImportError: cannot import name 'missing'" in line for line in details), details


def test_local_cibuildwheel_output_stays_out_of_git_and_the_sdist(
    built: tuple[Path, dict[str, Any], Dists], tmp_path: Path
) -> None:
    """RELEASING.md's local `cibuildwheel` writes wheelhouse/: never committed by `git add -A`, never
    packed into the sdist (scikit-build-core packs what git does not ignore; meson the commit)."""
    project, answers, dists = built
    copy = shutil.copytree(project, tmp_path / "project", ignore=shutil.ignore_patterns("dist", "build"))
    (copy / "wheelhouse").mkdir()
    shutil.copy(dists.wheel, copy / "wheelhouse")
    git(copy, "add", "--all")
    assert git(copy, "status", "--porcelain") == ""
    if answers["build_backend"] == "meson-python":
        return
    sdist = build_sdist(copy, tmp_path / "sdist")
    with tarfile.open(sdist) as tf:
        assert not [n for n in tf.getnames() if "/wheelhouse" in n], tf.getnames()


def test_sdist_carries_the_sources_and_not_the_build(built: tuple[Path, dict[str, Any], Dists]) -> None:
    project, answers, dists = built
    files = dists.sdist_files()
    native = {"scikit-build-core": {"CMakeLists.txt", "src/_core.cpp"}, "meson-python": {"meson.build", "src/_core.c"}}
    name = answers["import_name"]
    assert native[answers["build_backend"]] | {f"src/{name}/_core.pyi", f"tests/test_{name}.py"} <= files
    assert not [f for f in files if f.startswith(("dist/", "build/", ".mesonpy"))], sorted(files)
    # Outside `git archive` its placeholders stay unexpanded: every build from the sdist warned.
    assert ".git_archival.txt" not in files
    assert (project / ".git").is_dir()  # meson's sdist packs the git checkout


def test_stable_abi_wheel_passes_abi3audit(built: tuple[Path, dict[str, Any], Dists], repaired: Path) -> None:
    """abi3audit reads the symbols: a wheel tagged abi3 whose module uses the version-specific API
    (CMakeLists.txt without ${SKBUILD_SABI_COMPONENT}) is caught here, and only here."""
    _, answers, _ = built
    if "abi3" not in repaired.name:
        assert answers["python_min"] < "3.12" or answers["build_backend"] == "meson-python"
        return
    proc = run([tool("abi3audit"), "--strict", "--verbose", repaired])  # fails on any violation
    said = " ".join((proc.stdout + proc.stderr).split())  # rich wraps its lines
    assert "1 extensions scanned; 0 ABI version mismatches and 0 ABI violations found" in said, said


def interpreters(wheel: Path) -> list[str]:
    """The CPythons of this machine the wheel installs on (two at most)."""
    (interpreter, abi, _), *_ = (tag.split("-") for tag in sorted(wheel_tags(wheel)))
    lowest = int(interpreter.removeprefix("cp3"))
    fits = [v for v in PYTHONS if (int(v[2:]) >= lowest if abi == "abi3" else int(v[2:]) == lowest)]
    return [v for v in fits if find_python(v)][:2]


def test_installs_imports_and_passes_its_tests_on_each_python(
    built: tuple[Path, dict[str, Any], Dists], repaired: Path, tmp_path: Path
) -> None:
    project, answers, _ = built
    versions = interpreters(repaired)
    assert versions, repaired.name
    name = answers["import_name"]
    tests = shutil.copytree(project / "tests", tmp_path / "tests")  # away from src/: the wheel is imported
    shutil.copy(project / "pyproject.toml", tmp_path / "pyproject.toml")  # the project's pytest settings
    for version in versions:
        python = make_venv(tmp_path / f"venv-{version}", find_python(version) or version)
        install_into(python, repaired, "pytest>=9")
        # README's usage, as printed: the compiled add(), then the version.
        (usage,) = code_blocks((project / "README.md").read_text(encoding="utf-8"), "python")
        assert f"import {name}\n" in usage
        proc = run([python, "-c", usage], cwd=tmp_path)
        assert proc.stdout.split() == ["5", answers["version"]], proc.stdout
        # help(), inspect and the docs site read the stub's parameters from the C function's docstring
        # (nanobind writes its own signature, which inspect does not read).
        if answers["build_backend"] == "meson-python":
            signature = f"import inspect, {name}; print(*inspect.signature({name}.add).parameters)"
            assert run([python, "-c", signature], cwd=tmp_path).stdout.split() == ["a", "b"]
        proc = run([python, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", tests], cwd=tmp_path)
        assert " passed" in proc.stdout, proc.stdout  # run() fails on any failed test
        if answers.get("command_name"):  # the installed script and `python -m`, each printing the version
            assert command_tests_passed(proc.stdout) == {"script", "python -m"}, proc.stdout


def test_sources_compile_without_warnings(built: tuple[Path, dict[str, Any], Dists]) -> None:
    """-Wall -Wextra -Werror, against the headers the build used (the build system's own flags aside)."""
    project, answers, _ = built
    python = build_environment(build_requires(project), extension_python(project))
    include = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"]).stdout.strip()
    flags = ["-Wall", "-Wextra", "-Werror", "-fsyntax-only", f"-I{include}"]
    if answers["build_backend"] == "meson-python":
        run(["gcc", "-std=c11", *flags, project / "src" / "_core.c"])
    else:
        nanobind = Path(run([python, "-m", "nanobind", "--include_dir"]).stdout.strip()).parent
        robin_map = nanobind / "ext" / "robin_map" / "include"
        run(["g++", "-std=c++17", *flags, f"-I{nanobind / 'include'}", f"-I{robin_map}", project / "src" / "_core.cpp"])


def test_update_brings_template_fixes_into_an_extension(tmp_path: Path) -> None:
    """`copier update` from v1.0.0 to v1.1.0: the fix lands, the native sources (the user's) stay."""
    template_repo = update_template()
    project = make_project(tmp_path, template_repo.path, {"project_kind": "extension", "build_backend": "meson-python"})
    before = project_files(project)
    proc = copier_cli("update", "--defaults", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert FIX_STEP in [step.get("name") for step in workflow_steps(project)]
    assert NEW_SHA in (project / WORKFLOW).read_text(encoding="utf-8")
    for name in ("meson.build", "src/_core.c", "src/demo_pkg/_core.pyi", "src/demo_pkg/__init__.py", "pyproject.toml"):
        assert (project / name).read_bytes() == before[name], name
    assert load_answers(project)["_commit"] == TAG_B
    assert_merged_cleanly(project)


def path_without(program: str, folder: Path) -> str:
    """A PATH that finds every program this one finds but `program`: links in `folder`."""
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for entry in Path(directory).glob("*") if Path(directory).is_dir() else []:
            if entry.name != program and not (folder / entry.name).exists() and os.access(entry, os.X_OK):
                (folder / entry.name).symlink_to(entry)
    return str(folder)


@pytest.mark.parametrize("backend", sorted(PLATFORM))
def test_uv_run_tests_the_edited_source_without_a_system_ninja(backend: str, tmp_path: Path) -> None:
    """A developer's loop, `uv sync` then `uv run pytest`, where no ninja is installed (most machines):
    the tests pass, and an edit of the compiled source reaches them. meson-python rebuilds on import
    with the ninja uv put in .venv (not a deleted build environment's), after the release check's
    clean step too: the tests see the edit.
    scikit-build-core's editable install is a compiled copy: uv's own plan (`uv sync --dry-run`)
    reinstalls it, because its cache keys name the sources (a second compile, 20 s, spared); with
    its version from git tags, after a new tag too, but not after every commit."""
    answers = {"project_kind": "extension", "build_backend": backend}
    if backend == "scikit-build-core":
        answers["version_source"] = "git-tag"
    project = commit_new_repo(render_project(tmp_path / "ext", answers), "Generate from pypi-template")
    git(project, "tag", "v0.1.0")
    env = {**os.environ, "PATH": path_without("ninja", tmp_path / "bin")}
    env.pop("VIRTUAL_ENV", None)
    assert shutil.which("ninja", path=env["PATH"]) is None
    run([tool("uv"), "sync", "--quiet"], cwd=project, env=env)
    run([tool("uv"), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env)

    (source,) = [p for p in (project / "src").iterdir() if p.suffix in (".c", ".cpp")]

    def edit_source() -> None:
        source.write_text(source.read_text(encoding="utf-8").replace("a + b", "a + b + 1"), encoding="utf-8")

    if backend == "meson-python":
        # The release check's first step, as RELEASING.md has it run before a release: it leaves the
        # build folder the editable install rebuilds from (removed, every import failed until a reinstall).
        assert load_script(project).clean().ok
        edit_source()
        pytest_run = [tool("uv"), "run", "pytest", "-q", "-p", "no:cacheprovider"]
        proc = subprocess.run(pytest_run, cwd=project, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "assert 6 == 5" in proc.stdout, proc.stdout
    else:
        name = load_answers(project)["project_name"]
        reinstall = f" - {name}==0.1.0 (from file://{project})"

        def plan() -> str:
            proc = run([tool("uv"), "sync", "--dry-run"], cwd=project, env=env)
            return proc.stdout + proc.stderr

        git(project, "commit", "--quiet", "--allow-empty", "--message", "A commit: the same build")
        assert reinstall not in plan()
        git(project, "tag", "v0.2.0")  # a release: the version the build reads changes
        assert reinstall in plan()
        git(project, "tag", "--delete", "v0.2.0")
        assert reinstall not in plan()
        edit_source()  # uv compares the sources' modification times
        assert reinstall in plan()
