"""Building: every buildable combination builds once, passes twine and wheel checks, and installs."""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.metadata import Metadata
from packaging.version import Version

from scenarios import matrix_case_answers, matrix_cases
from support.builds import (
    Dists,
    build_dists,
    build_once,
    build_sdist,
    check_wheel_contents,
    command_tests_passed,
    read_author,
    sdist_files,
    twine_check,
)
from support.checkers import PYROMA_NO_KEYWORDS, pyroma_rating, repo_review, repo_review_ignores
from support.config import kind_backends
from support.envs import install_into, make_venv
from support.pages import code_blocks
from support.proc import PYTHON, run
from support.render import load_answers, render_once
from support.sharing import shared_folder, shared_once

pytestmark = pytest.mark.slow

# The extensions build, repair and install in tests/test_extension.py (the same shared builds).
CASES = [pytest.param(case_id, id=case_id) for case_id, answers in matrix_cases()
         if answers.get("project_kind") != "extension"]  # fmt: skip


@pytest.fixture(scope="module", params=CASES)
def built(request: pytest.FixtureRequest) -> tuple[Path, dict[str, Any], Dists]:
    """Render and build each case once per run; the tests below (on any worker) share the result."""
    case_id = request.param
    project, dists = build_once(case_id, matrix_case_answers(case_id))
    return project, load_answers(project), dists


def test_twine_check_strict(built: tuple[Path, dict[str, Any], Dists]) -> None:
    _, _, dists = built
    passed, output = twine_check(dists.sdist, dists.wheel)
    assert passed, output
    assert output.count("PASSED") == 2, output


def test_check_wheel_contents(built: tuple[Path, dict[str, Any], Dists]) -> None:
    project, answers, dists = built
    if answers["project_kind"] == "meta-package":
        # W007/W008 (empty library / wheel) are the point of a metadata-only wheel.
        code, output = check_wheel_contents("--ignore", "W007,W008", dists.wheel)
    else:
        name = answers["import_name"]
        code, output = check_wheel_contents("--package", project / "src" / name, "--toplevel", name, dists.wheel)
    assert code == 0, output
    assert f"{dists.wheel}: OK" in output, output


def test_metadata_equals_answers(built: tuple[Path, dict[str, Any], Dists]) -> None:
    _, answers, dists = built
    assert_metadata_equals_answers(dists, answers)


@pytest.mark.parametrize("case_id", [c for c, answers in matrix_cases() if answers.get("project_kind") == "extension"])
def test_extension_metadata_equals_answers(case_id: str) -> None:
    """The extensions' builds (tests/test_extension.py checks their wheels), the same fields."""
    project, dists = build_once(case_id, matrix_case_answers(case_id))
    assert_metadata_equals_answers(dists, load_answers(project))


def assert_metadata_equals_answers(dists: Dists, answers: dict[str, Any]) -> None:
    meta = Metadata.from_email(dists.wheel_metadata_bytes(), validate=True)
    assert meta.metadata_version in {"2.4", "2.5"}
    assert meta.name == answers["project_name"]
    assert meta.version == Version(answers["version"])
    assert meta.summary == answers["description"]
    assert meta.license_expression == "MIT"
    assert meta.license_files == ["LICENSE"]
    assert str(meta.requires_python) == f">={answers['python_min']}"
    assert read_author(meta) == (answers["user_name"], answers["user_email"])
    assert meta.description_content_type == "text/markdown"
    url = f"https://github.com/{answers['github_owner']}/{answers['repository_name']}"
    assert meta.project_urls == {
        "Homepage": url,
        "Repository": url,
        "Issues": f"{url}/issues",
        "Changelog": f"{url}/blob/main/CHANGELOG.md",
        # The site on GitHub Pages: the owner lowercased, as Pages names its host.
        **({"Documentation": f"https://{answers['github_owner'].lower()}.github.io/{answers['repository_name']}/"}
           if answers["docs_site"] != "none" else {}),
    }  # fmt: skip
    assert not [c for c in meta.classifiers or [] if c.startswith("License ::")]
    assert [c for c in meta.classifiers or [] if c.startswith("Development Status ::")] == [
        f"Development Status :: {answers['development_status']}"
    ]
    # An extension's wheels run only on the systems the wheels workflow builds for.
    systems = [
        c.removeprefix("Operating System :: ") for c in meta.classifiers or [] if c.startswith("Operating System")
    ]
    independent = answers["project_kind"] != "extension"
    assert systems == (["OS Independent"] if independent else ["MacOS", "Microsoft :: Windows", "POSIX :: Linux"])
    if answers["project_kind"] == "meta-package":
        assert set(meta.provides_extra or []) == {*answers["extras"], "all"}


@pytest.mark.parametrize(
    "case_id", [c for c, answers in matrix_cases() if answers.get("project_kind") in (None, "library")]
)
def test_pyroma_rates_ten_with_every_backend(case_id: str, tmp_path: Path) -> None:
    """pyroma reads the metadata the project's backend prepares: 10/10, or only the keywords missing.

    The library of each backend (tests/test_quality.py rates the meta-packages).
    """
    project, _ = build_once(case_id, matrix_case_answers(case_id))
    answers = load_answers(project)
    rating, findings = pyroma_rating(project, tmp_path)
    assert (rating, findings) == ((10, []) if answers["keywords"].strip() else (9, [PYROMA_NO_KEYWORDS]))


def test_repo_review_with_every_backend(built: tuple[Path, dict[str, Any], Dists]) -> None:
    project, answers, _ = built
    results = repo_review(project)
    assert {name: r["err_msg"] for name, r in results.items() if r["result"] is False} == {}
    assert {name for name, r in results.items() if r["skip_reason"]} == repo_review_ignores(answers["docs_site"])


def test_wheel_and_sdist_contents(built: tuple[Path, dict[str, Any], Dists]) -> None:
    _, answers, dists = built
    wheel = dists.wheel_names()
    dist_info = next(n.split("/")[0] for n in wheel if n.endswith(".dist-info/METADATA"))
    assert f"{dist_info}/licenses/LICENSE" in wheel
    # Nothing but the import package and the .dist-info folder: no tests, docs or stray files.
    top_level = {n.split("/")[0] for n in wheel}
    if answers["project_kind"] == "meta-package":
        assert top_level == {dist_info}
    else:
        assert top_level == {dist_info, answers["import_name"]}
        assert f"{answers['import_name']}/py.typed" in wheel
    # Every backend ships the same project files in its sdist: the metadata files, the code and its
    # tests. Backends add files of their own (PKG-INFO; setuptools' egg-info and setup.cfg; hatchling
    # the .gitignore; uv-build the pyproject.toml it read, as .orig), which are left out here.
    project = built[0]
    expected = {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"} | {
        p.relative_to(project).as_posix() for folder in ("src", "tests") for p in (project / folder).glob("**/*")
        if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in p.as_posix()  # build litter
    }  # fmt: skip
    if (project / "MANIFEST.in").is_file():
        expected.add("MANIFEST.in")
    backend_own = {"PKG-INFO", "setup.cfg", ".gitignore", "pyproject.toml.orig"}
    shipped = {name for name in dists.sdist_files() if name not in backend_own and ".egg-info/" not in name}
    assert shipped == expected, sorted(dists.sdist_files())


@pytest.mark.parametrize("backend", kind_backends("library"))
def test_every_file_the_user_adds_under_tests_ships_in_the_sdist(backend: str, tmp_path: Path) -> None:
    """A conftest.py and a data file ship beside the test modules with every backend (setuptools'
    own default takes tests/test*.py alone); only the sdist is built."""
    case_id = f"{backend}-library"
    project = shutil.copytree(render_once(f"build-{case_id}", matrix_case_answers(case_id)), tmp_path / "demo-pkg")
    added = {"tests/conftest.py": '"""Fixtures the tests share."""\n', "tests/data/sample.txt": "sample\n"}
    for name, text in added.items():
        (project / name).parent.mkdir(exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    shipped = sdist_files(build_sdist(project, tmp_path / "dist"))
    assert set(added) <= shipped, sorted(shipped)


@pytest.mark.slow  # six builds
@pytest.mark.parametrize("backend", kind_backends("library"))
def test_every_file_the_user_adds_under_src_ships_in_both_dists(backend: str, tmp_path: Path) -> None:
    """A subpackage and a data file added to the import package reach the sdist and the wheel with
    every backend (setuptools once listed the top-level package alone and dropped both)."""
    case_id = f"{backend}-library"
    project = shutil.copytree(render_once(f"build-{case_id}", matrix_case_answers(case_id)), tmp_path / "demo-pkg")
    (package,) = (project / "src").iterdir()
    added = {"sub/__init__.py": '"""A subpackage."""\n', "sub/helpers.py": "VALUE = 1\n", "data/defaults.json": "{}\n"}
    for name, text in added.items():
        (package / name).parent.mkdir(exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    dists = build_dists(project, tmp_path / "dist")
    assert {f"{package.name}/{name}" for name in added} <= set(dists.wheel_names()), dists.wheel_names()
    assert {f"src/{package.name}/{name}" for name in added} <= dists.sdist_files(), sorted(dists.sdist_files())
    # RELEASING.md's fix for unexpected files in the wheel names the file that decides them.
    releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
    advice = releasing.split("### Unexpected files in the wheel")[1].split("\n### ")[0]
    assert ("`MANIFEST.in`" in advice) is (project / "MANIFEST.in").is_file(), advice


@pytest.fixture(scope="module")
def pytest_path() -> Path:
    """pytest installed once per run and compiled, for the fresh environments below to import.

    Else each would install it again and import it from source (PYTHONDONTWRITEBYTECODE).
    """

    def make(root: Path) -> None:
        install_into(Path(PYTHON), "pytest>=8", extra_args=("--target", str(root), "--compile-bytecode"))

    return shared_once(shared_folder() / "pytest-for-projects", make)


def test_install_wheel_and_run_project_tests(
    built: tuple[Path, dict[str, Any], Dists], pytest_path: Path, tmp_path: Path
) -> None:
    project, answers, dists = built
    python = make_venv(tmp_path / "venv")
    install_into(python, dists.wheel)
    # After site-packages on sys.path: the wheel, installed alone, is what the tests import.
    (site_packages,) = (tmp_path / "venv" / "lib").glob("python3*/site-packages")
    (site_packages / "shared-pytest.pth").write_text(f"{pytest_path}\n", encoding="utf-8")
    name = answers["project_name"]
    # README's usage, as printed (a library's); a meta-package's README has none: its metadata.
    readme = code_blocks((project / "README.md").read_text(encoding="utf-8"), "python")
    assert len(readme) == (answers["project_kind"] == "library")
    for code in readme or [f"import importlib.metadata as md; print(md.version({name!r}))"]:
        proc = run([python, "-c", code], cwd=tmp_path)
        assert proc.stdout.strip() == answers["version"]
    # The project's own tests, against the installed wheel (src/ is not on sys.path).
    proc = run([python, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"], cwd=project)
    assert " passed" in proc.stdout, proc.stdout
    if answers.get("command_name"):  # the installed script and `python -m`, each printing the version
        assert command_tests_passed(proc.stdout) == {"script", "python -m"}, proc.stdout
    assert str(python) != PYTHON


@pytest.mark.parametrize("backend", kind_backends("library"))
def test_isolated_wheel_equals_shared_environment_wheel(backend: str, tmp_path: Path) -> None:
    """The matrix builds in shared environments (docs/decisions.md); here each backend builds in
    build's own isolated environment, from `build-system.requires` alone, the wheel of its sdist."""
    case_id = f"{backend}-library"
    _, dists = build_once(case_id, matrix_case_answers(case_id))
    with tarfile.open(dists.sdist) as sdist:
        sdist.extractall(tmp_path / "src", filter="data")
    (srcdir,) = (tmp_path / "src").iterdir()
    run([PYTHON, "-m", "build", "--wheel", "--installer", "uv", "--outdir", tmp_path / "dist", srcdir])
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    isolated = Dists(sdist=dists.sdist, wheel=wheel)
    assert wheel.name == dists.wheel.name
    assert sorted(isolated.wheel_names()) == sorted(dists.wheel_names())
    assert isolated.wheel_metadata_bytes() == dists.wheel_metadata_bytes()


def test_one_off_environments_are_compiled_only_when_asked(tmp_path: Path) -> None:
    """install_into compiles bytecode on request only: this repository's [tool.uv] compile-bytecode
    is for the test venv, and environments a test makes and uses once would pay for every file."""
    wheel = tmp_path / "tiny_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("tiny_pkg/__init__.py", "ANSWER = 42\n")
        zf.writestr("tiny_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tiny-pkg\nVersion: 1.0\n")
        zf.writestr(
            "tiny_pkg-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("tiny_pkg-1.0.dist-info/RECORD", "tiny_pkg/__init__.py,,\ntiny_pkg-1.0.dist-info/METADATA,,\n"
                    "tiny_pkg-1.0.dist-info/WHEEL,,\ntiny_pkg-1.0.dist-info/RECORD,,\n")  # fmt: skip
    for compiled in (False, True):
        venv = tmp_path / f"venv-{compiled}"
        install_into(make_venv(venv), wheel, extra_args=("--compile-bytecode",) if compiled else ())
        (package,) = venv.glob("lib/python3*/site-packages/tiny_pkg")
        assert bool(list(package.rglob("*.pyc"))) is compiled, compiled
