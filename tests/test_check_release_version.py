"""The generated .github/scripts/check_release_version.py: the release tag and the version in
pyproject.toml and in the built files must agree, spelled canonically (the build job's guard).
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from packaging.version import InvalidVersion, Version

from scenarios import VERSIONS
from support.config import TEMPLATE_ROOT, load_copier_config
from support.proc import PYTHON, import_script
from support.wheels import metadata_wheel

SCRIPTS = TEMPLATE_ROOT / "template" / ".github" / "scripts"
CHECK_SCRIPT = SCRIPTS / "check_release_version.py"
SYNC_SCRIPT = SCRIPTS / "check_template_sync.py"


@pytest.fixture(scope="module")
def guard() -> ModuleType:
    return import_script(CHECK_SCRIPT, "check_release_version")


def write_pyproject(folder: Path, version: str | None) -> Path:
    project = f'version = "{version}"' if version else 'dynamic = ["version"]'
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "acme"\n{project}\n', encoding="utf-8")
    return path


def write_dists(folder: Path, wheel_version: str, sdist_version: str | None = None) -> Path:
    """A minimal wheel and sdist carrying only the metadata the guard reads."""
    import io
    import tarfile

    metadata_wheel(folder, "acme", wheel_version)
    sdist_version = sdist_version or wheel_version
    data = f"Metadata-Version: 2.4\nName: acme\nVersion: {sdist_version}\n".encode()
    with tarfile.open(folder / f"acme-{sdist_version}.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo(f"acme-{sdist_version}/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return folder


def test_guard_accepts_the_v_tag_of_the_version(
    guard: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = "v1.2.3"
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    pyproject = write_pyproject(tmp_path, "1.2.3")
    dist = write_dists(tmp_path / "dist", "1.2.3")
    assert guard.main(["--tag", tag, "--pyproject", str(pyproject), "--dist", str(dist)]) == 0
    assert f"release tag '{tag}' matches version '1.2.3'" in capsys.readouterr().out
    assert output.read_text(encoding="utf-8") == "version=1.2.3\n"


@pytest.mark.parametrize(
    ("tag", "version", "message"),
    [
        (
            "v1.2.4",
            "1.2.3",
            "release tag 'v1.2.4' does not match version '1.2.3' in {pyproject}: the tag must be 'v1.2.3'",
        ),
        # The pypi environment deploys v* tags only: TestPyPI would take the release and PyPI never.
        ("1.2.3", "1.2.3", "release tag '1.2.3' does not start with 'v': the pypi environment deploys v* tags only"),
        ("v1.2", "1.2.0", "release tag 'v1.2' does not match version '1.2.0'"),
        ("V1.2.3", "1.2.3", "release tag 'V1.2.3' does not start with 'v'"),
        (
            "v1.2.3+abc",
            "1.2.3+abc",
            "version '1.2.3+abc' in {pyproject} has a local part ('+...'): PyPI and TestPyPI refuse",
        ),
        ("", "1.2.3", "the release tag is empty"),
    ],
    ids=["mismatch", "no-v", "not-normalised", "capital-v", "local-version", "empty-tag"],
)
def test_guard_refuses_with_a_clear_message(
    guard: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tag: str,
    version: str,
    message: str,
) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    pyproject = write_pyproject(tmp_path, version)
    assert guard.main(["--tag", tag, "--pyproject", str(pyproject)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message.format(pyproject=pyproject) in err
    assert not output.exists()


@pytest.mark.parametrize("tag", ["v1.0.0rc1", "v1.0.0-rc1", None], ids=["canonical-tag", "as-written-tag", "no-tag"])
def test_guard_names_a_non_canonical_spelling_whatever_the_tag(
    guard: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], tag: str | None
) -> None:
    """`1.0.0-rc1` builds as `1.0.0rc1`: every tag gets the same advice, never one pointing at the other."""
    pyproject = write_pyproject(tmp_path, "1.0.0-rc1")
    dist = write_dists(tmp_path / "dist", "1.0.0rc1")
    args = ["--pyproject", str(pyproject), "--dist", str(dist), *(["--tag", tag] if tag else [])]
    assert guard.main(args) == 1
    err = capsys.readouterr().err
    assert (
        f"version '1.0.0-rc1' in {pyproject} is not spelled canonically: the built files, and PyPI, call it '1.0.0rc1'"
        in err
    )
    assert f"Write version = '1.0.0rc1' in {pyproject} and tag the release v1.0.0rc1" in err


def test_guard_without_built_files_refuses_a_non_canonical_version(
    guard: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write_pyproject(tmp_path, "1.0-RC1")
    assert guard.main(["--pyproject", str(pyproject)]) == 1
    err = capsys.readouterr().err
    assert f"version '1.0-RC1' in {pyproject} is not a canonical PEP 440 public version" in err


def test_guard_without_a_tag_says_how_to_tag(
    guard: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write_pyproject(tmp_path, "2.1.0")
    assert guard.main(["--pyproject", str(pyproject), "--dist", str(write_dists(tmp_path / "dist", "2.1.0"))]) == 0
    assert capsys.readouterr().out == "version '2.1.0' can be released: tag it v2.1.0\n"


def test_guard_takes_a_typed_development_version_as_releasable(
    guard: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .devN typed into pyproject.toml is the user's choice (PyPI takes it); only one a plugin read
    from git between tags is called a development build (tests/test_version_source.py)."""
    pyproject = write_pyproject(tmp_path, "1.0.0.dev1")
    assert guard.main(["--pyproject", str(pyproject), "--dist", str(write_dists(tmp_path / "dist", "1.0.0.dev1"))]) == 0
    assert capsys.readouterr().out == "version '1.0.0.dev1' can be released: tag it v1.0.0.dev1\n"


def test_guard_canonical_rule_is_packagings_and_the_questions(guard: ModuleType) -> None:
    """One rule in four places: the version question, this guard, the template-sync check's release
    tags (standalone scripts each, so each has its copy) and packaging's own spelling."""
    sync = import_script(SYNC_SCRIPT, "check_template_sync")
    config_rule = re.compile(
        re.search(r"regex_search\('(\^.*?)'\)\) -%\}", load_copier_config()["version"]["validator"])
        .group(1)
        .replace("\\\\", "\\")
    )
    for version in VERSIONS:
        try:
            expected = str(Version(version)) == version and Version(version).local is None
        except InvalidVersion:
            expected = False
        assert bool(guard.CANONICAL.fullmatch(version)) is expected, version
        assert bool(config_rule.search(version)) is expected, version
        assert bool(sync.RELEASE_TAG.fullmatch(f"v{version}")) is expected, version  # a release tag, vX.Y.Z


def test_guard_checks_the_built_files(guard: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A backend that computes or normalises the version is caught after the build."""
    pyproject = write_pyproject(tmp_path, "1.2.3")
    dist = write_dists(tmp_path / "dist", "1.2.3", sdist_version="1.2.3.post1")
    assert guard.main(["--tag", "v1.2.3", "--pyproject", str(pyproject), "--dist", str(dist)]) == 1
    assert "version '1.2.3.post1' in acme-1.2.3.post1.tar.gz" in capsys.readouterr().err


def test_guard_needs_built_files_for_a_dynamic_version(
    guard: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write_pyproject(tmp_path, None)
    assert guard.main(["--tag", "v2.0.0", "--pyproject", str(pyproject)]) == 1
    assert "is dynamic: check the built files with --dist" in capsys.readouterr().err
    dist = write_dists(tmp_path / "dist", "2.0.0")
    assert guard.main(["--tag", "v2.0.0", "--pyproject", str(pyproject), "--dist", str(dist)]) == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert guard.main(["--tag", "v2.0.0", "--pyproject", str(pyproject), "--dist", str(empty)]) == 1
    assert "holds no sdist or wheel" in capsys.readouterr().err


def test_guard_runs_as_a_script_with_an_annotation(tmp_path: Path) -> None:
    """The workflow runs it as `python <file>` on a runner: exit code and ::error:: annotation."""
    write_pyproject(tmp_path, "0.1.0")
    env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTIONS": "true"}
    proc = subprocess.run(
        [PYTHON, CHECK_SCRIPT, "--tag", "v0.2.0"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("::error title=Release version::release tag 'v0.2.0' does not match version '0.1.0'")
    proc = subprocess.run(
        [PYTHON, CHECK_SCRIPT, "--tag", "v0.1.0"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


# version_source=git-tag, the version the build read from git against the release tag.
DYNAMIC_REFUSALS = {
    # A checkout without the tag builds X.Y.devN: the guard says why.
    "missed-the-tag": ("v1.2.0", "0.1.dev1", [
        "release tag 'v1.2.0' does not match version '0.1.dev1' that the build read from git",
        "Check out with fetch-depth: 0"], "is not spelled canonically"),
    # The plugin reads tag v1.0.0-rc1 as 1.0.0rc1: the tag's spelling is the fault, not the checkout.
    "non-canonical-tag": ("v1.0.0-rc1", "1.0.0rc1", [
        "release tag 'v1.0.0-rc1' is not spelled canonically",
        "publish from tag 'v1.0.0rc1', the version the build read"], "fetch-depth"),
}  # fmt: skip


@pytest.mark.parametrize(("tag", "built", "said", "unsaid"), DYNAMIC_REFUSALS.values(), ids=DYNAMIC_REFUSALS.keys())
def test_guard_explains_a_dynamic_version_that_is_not_the_tag(
    guard: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tag: str,
    built: str,
    said: list[str],
    unsaid: str,
) -> None:
    pyproject = write_pyproject(tmp_path, None)
    dist = write_dists(tmp_path / "dist", built)
    assert guard.main(["--tag", tag, "--pyproject", str(pyproject), "--dist", str(dist)]) == 1
    err = capsys.readouterr().err
    for text in said:
        assert text in err
    assert unsaid not in err


@pytest.mark.parametrize("case", ["no-dist-folder", "no-pyproject", "broken-wheel", "broken-sdist", "corrupt-wheel"])
def test_guard_reports_missing_and_broken_files_without_a_traceback(
    guard: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    pyproject = write_pyproject(tmp_path, "1.0.0")
    dist = tmp_path / "dist"
    if case == "no-pyproject":
        pyproject = tmp_path / "elsewhere" / "pyproject.toml"
    if case.startswith("broken"):
        dist.mkdir()
        name = "acme-1.0.0-py3-none-any.whl" if case == "broken-wheel" else "acme-1.0.0.tar.gz"
        (dist / name).write_bytes(b"not an archive")
    if case == "corrupt-wheel":  # a valid zip whose deflated METADATA is damaged: zlib fails
        wheel = metadata_wheel(dist, "acme", "1.0.0", compression=zipfile.ZIP_DEFLATED)
        data = bytearray(wheel.read_bytes())
        start = data.index(b"METADATA") + len(b"METADATA")
        data[start : start + 8] = b"\xff" * 8
        wheel.write_bytes(bytes(data))
    args = ["--pyproject", str(pyproject), "--dist", str(dist)]
    assert guard.main(args) == 1
    err = capsys.readouterr().err
    expected = {
        "no-dist-folder": f"error: {dist} is not a folder: build before checking",
        "no-pyproject": f"error: {pyproject} not found: run from the project's root, or give --pyproject",
        "broken-wheel": "error: acme-1.0.0-py3-none-any.whl has no single metadata file: it is not a valid",
        "broken-sdist": "error: acme-1.0.0.tar.gz has no single metadata file: it is not a valid",
        "corrupt-wheel": "error: acme-1.0.0-py3-none-any.whl has no single metadata file: it is not a valid",
    }[case]
    assert err.startswith(expected), err
