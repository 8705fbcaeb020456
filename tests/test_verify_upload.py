"""The generated .github/scripts/verify_upload.py: its retry logic, command line and --command.

What it checks on a package index (served files, provenance, installs) is tests/test_integrity.py.
"""

from __future__ import annotations

import re
import shutil
import sys
import sysconfig
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from scenarios import VERIFIED_COMMAND, VERIFIED_LIBRARY
from support.builds import build_once
from support.clients import requirement_wheels
from support.config import TEMPLATE_ROOT
from support.index import LocalIndex, serve_index
from support.proc import import_script
from support.wheels import foreign_tags, host_tag, retag

VERIFY_SCRIPT = TEMPLATE_ROOT / "template" / ".github" / "scripts" / "verify_upload.py"


@pytest.fixture(scope="module")
def verifier() -> ModuleType:
    return import_script(VERIFY_SCRIPT, "verify_upload")


# Spellings of versions as file names carry them: every separator and letter form PEP 440 allows.
SPELLINGS = st.builds(
    lambda epoch, release, pre, post, dev, local: f"{epoch}{release}{pre}{post}{dev}{local}",
    st.sampled_from(["", "0!", "1!", "01!"]),
    st.lists(st.sampled_from(["0", "1", "2", "00", "10"]), min_size=1, max_size=4).map(".".join),
    st.sampled_from(["", "a1", "A1", "-alpha.1", "b", "_beta2", "rc1", "c1", ".pre01", "preview1", "-RC-1"]),
    st.sampled_from(["", ".post1", "-1", "post", "_r2", ".rev1", "-post-0"]),
    st.sampled_from(["", ".dev0", "dev", "-dev_1", ".DEV1"]),
    st.sampled_from(["", "+abc", "+ABC", "+1.x", "+01.X", "+1-x"]),
)


@given(SPELLINGS, SPELLINGS)
@settings(max_examples=400, deadline=None)
def test_versions_compare_as_pep_440_compares_them(verifier: ModuleType, a: str, b: str) -> None:
    """Which served files are this version (verify_upload.same_version) is packaging's equality."""
    assert Version(a) == Version(b) or verifier.same_version(a) != verifier.same_version(b)
    assert Version(a) != Version(b) or verifier.same_version(a) == verifier.same_version(b)
    assert verifier.same_version(a) == verifier.same_version(str(Version(a)))


def test_backoff_doubles_and_is_capped(verifier: ModuleType) -> None:
    assert verifier.backoff_delays(6, 10, 60) == [10, 20, 40, 60, 60]
    assert verifier.backoff_delays(1, 10, 60) == []
    for bad in [(0, 10, 60), (3, 0, 60), (3, 10, 5)]:
        with pytest.raises(ValueError, match="need attempts >= 1"):
            verifier.backoff_delays(*bad)


def test_workflow_retry_budget_is_bounded(verifier: ModuleType) -> None:
    """The defaults the workflow relies on wait minutes, not forever, and fit the job timeout."""
    args = verifier.parse_args(["--index-url", "x", "--project", "p", "--version", "1", "--dist", "dist"])
    delays = verifier.backoff_delays(args.attempts, args.initial_delay, args.max_delay)
    assert 5 * 60 <= sum(delays) <= 10 * 60
    assert max(delays) == args.max_delay


class Flaky:
    """A check the index's lag fails `failures` times (or a final error once), then passes."""

    def __init__(self, verifier: ModuleType, failures: int, final: bool = False) -> None:
        self.error = verifier.VerifyError if final else verifier.NotServedYet
        self.failures, self.calls = failures, 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"No matching distribution found (call {self.calls})")


def test_retry_succeeds_after_failures(verifier: ModuleType) -> None:
    slept: list[float] = []
    log: list[str] = []
    action = Flaky(verifier, failures=3)
    verifier.retry(action, [1, 2, 4, 8, 8], sleep=slept.append, log=log.append)
    assert action.calls == 4
    assert slept == [1, 2, 4]
    assert log[0] == "attempt 1/6 failed, retrying in 1s: No matching distribution found (call 1)"


def test_retry_gives_up_with_a_clear_message(verifier: ModuleType) -> None:
    slept: list[float] = []
    action = Flaky(verifier, failures=99)
    with pytest.raises(
        verifier.VerifyError, match=r"gave up after 4 attempts over 7s: No matching distribution found \(call 4\)"
    ):
        verifier.retry(action, [1, 2, 4], sleep=slept.append, log=lambda _: None)
    assert action.calls == 4
    assert slept == [1, 2, 4]


def test_retry_never_waits_out_a_final_failure(verifier: ModuleType) -> None:
    slept: list[float] = []
    action = Flaky(verifier, failures=99, final=True)
    with pytest.raises(verifier.VerifyError, match=r"^No matching distribution found \(call 1\)$"):
        verifier.retry(action, [1, 2, 4], sleep=slept.append, log=lambda _: None)
    assert action.calls == 1
    assert slept == []


@pytest.mark.parametrize(("actions", "prefix"), [("true", "::error title=Verify upload::"), ("", "error: ")])
def test_verifier_reports_failure_and_exits_1(
    verifier: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    actions: str,
    prefix: str,
) -> None:
    """A release the index never serves: every attempt asks for the project's page, then one line,
    a GitHub error annotation in Actions, says why it gave up."""
    wheel = tmp_path / "acme-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("acme-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: acme\nVersion: 1.0\n")
        zf.writestr("acme-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    monkeypatch.setenv("GITHUB_ACTIONS", actions)
    slept: list[float] = []
    with serve_index() as index:
        argv = ["--index-url", index.simple, "--project", "acme", "--version", "1.0", "--dist", str(tmp_path),
                "--attempts", "2", "--initial-delay", "3"]  # fmt: skip
        assert verifier.main(argv, sleep=slept.append, log=lambda _: None) == 1
    assert index.log == ["/simple/acme/", "/simple/acme/"]
    assert slept == [3]
    expected = f"{prefix}gave up after 2 attempts over 3s: {index.simple}acme/ answered HTTP 404\n"
    assert capsys.readouterr().err == expected


def test_verifier_refuses_a_tag_as_version(verifier: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        verifier.parse_args(["--index-url", "x", "--project", "p", "--version", "v1.0.0", "--dist", "d"])
    assert exc.value.code == 2
    assert "--version 'v1.0.0': pass the version, not the tag" in capsys.readouterr().err


# --- --command: the command the verified wheel installs ---------------------------------------


def verify_argv(index: LocalIndex, deps: LocalIndex, dist: Path, *extra: str) -> list[str]:
    """The publish workflow's options for VERIFIED_LIBRARY's release, against local indexes."""
    return ["--index-url", index.simple, "--deps-index-url", deps.simple, "--project", VERIFIED_LIBRARY["project_name"],
            "--version", VERIFIED_LIBRARY["version"], "--dist", str(dist), "--attempts", "1", *extra]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (VERIFIED_COMMAND, "acme-verify --version: acme-verify 0.3.0"),
        (VERIFIED_LIBRARY, "the installed wheel has no command acme-verify ("),
    ],
    ids=["installed", "missing"],
)
def test_command_runs_from_the_wheel_installed_from_the_index(
    verifier: ModuleType, capsys: pytest.CaptureFixture[str], answers: dict[str, Any], expected: str
) -> None:
    """The wheel with a command passes; a wheel without it (its [project.scripts] lost) fails, once."""
    # The library without a command is tests/test_integrity.py's build, shared.
    dists = build_once("verify-command" if answers is VERIFIED_COMMAND else "integrity-library", answers)[1]
    with serve_index() as index, serve_index() as deps:
        index.publish(dists.sdist, dists.wheel)
        log: list[str] = []
        argv = verify_argv(index, deps, dists.wheel.parent, "--import", "acme_verify", "--command", "acme-verify")
        code = verifier.main(argv, sleep=lambda _: None, log=log.append)
    err = capsys.readouterr().err
    if answers is VERIFIED_COMMAND:
        assert code == 0, err
        assert log[-2:] == [expected, f"acme-verify==0.3.0 verified on {index.simple}: OK"]
    else:
        assert code == 1
        assert err.startswith(f"error: {expected}"), err
        assert err.rstrip().endswith("bump the version and release again"), err


@pytest.mark.parametrize("printed", ["acme 0.3.1", "acme 10.3.0", "acme"])
def test_command_printing_another_version_fails(verifier: ModuleType, tmp_path: Path, printed: str) -> None:
    environment = tmp_path / "venv"
    script = environment / "bin" / "acme"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/bin/sh\necho '{printed}'\n", encoding="utf-8")
    script.chmod(0o755)
    with pytest.raises(verifier.VerifyError, match=rf"^`acme --version` printed '{printed}', not the version 0\.3\.0$"):
        verifier.check_command(environment, "acme", "0.3.0", tmp_path)
    script.write_text("#!/bin/sh\necho 'acme 0.3.0'\n", encoding="utf-8")
    assert verifier.check_command(environment, "acme", "0.3.0", tmp_path) == "acme 0.3.0"


def test_command_failing_fails(verifier: ModuleType, tmp_path: Path) -> None:
    script = tmp_path / "venv" / "bin" / "acme"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\necho 'usage: acme' >&2\nexit 2\n", encoding="utf-8")
    script.chmod(0o755)
    with pytest.raises(verifier.VerifyError, match=r"acme --version` exited 2: usage: acme$"):
        verifier.check_command(tmp_path / "venv", "acme", "0.3.0", tmp_path)


# --- Platform wheels: only this host's wheel installs, a missing one fails at once ---------------
# An extension releases one wheel per platform. The wheels here are fabricated: copies of the
# library's real wheel retagged (support/wheels.py) for this host and for platforms it is not.


def platform_release(tmp_path: Path, with_host: bool) -> tuple[Path, Path]:
    """(dist folder, its sdist): the library's release as wheels for several platforms."""
    dists = build_once("integrity-library", VERIFIED_LIBRARY)[1]
    dist = tmp_path / "dist"
    dist.mkdir()
    for tag in [*foreign_tags(), *([host_tag()] if with_host else [])]:
        retag(dists.wheel, tag, dist)
    return dist, Path(shutil.copy2(dists.sdist, dist))


@pytest.mark.slow
def test_only_the_host_wheel_installs_from_an_index_of_platform_wheels(
    verifier: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dist, _ = platform_release(tmp_path, with_host=True)
    host = f"acme_verify-0.3.0-{host_tag()}.whl"
    with serve_index() as index, serve_index() as deps:
        index.publish(*dist.iterdir())
        log: list[str] = []
        code = verifier.main(
            verify_argv(index, deps, dist, "--import", "acme_verify"), sleep=lambda _: None, log=log.append
        )
    assert code == 0, capsys.readouterr().err
    assert f"this host installs {host}" in log
    assert f"{index.simple} serves exactly the 6 built files (sha256)" in log
    # pip downloaded the host's wheel and nothing else: no other platform's, no sdist to build.
    assert [path for path in index.log if path.startswith("/files/")] == [f"/files/{host}"]


@pytest.mark.slow
def test_a_missing_host_wheel_fails_at_once_with_the_wheels_built(
    verifier: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No wheel for this platform: a final error naming the host and the wheels built, before any
    index is asked (an index's lag cannot explain it), never an install from the sdist."""
    dist, _ = platform_release(tmp_path, with_host=False)
    with serve_index() as index, serve_index() as deps:
        index.publish(*dist.iterdir())
        code = verifier.main(verify_argv(index, deps, dist, "--attempts", "3"), sleep=pytest.fail, log=lambda _: None)
    assert code == 1
    err = capsys.readouterr().err
    built = ", ".join(sorted(f"acme_verify-0.3.0-{tag}.whl" for tag in foreign_tags()))
    major, minor = sys.version_info[:2]
    assert err.startswith(
        f"error: no built wheel installs on this host (Python {major}.{minor} on {sysconfig.get_platform()}); "
        f"this run built: {built}. "
    ), err
    assert "PyPI takes no new files for a release older than 14 days" in err
    assert err.rstrip().endswith("bump the version and release again"), err
    assert index.log == []


# --- --tests: the project's tests against the wheel installed from the index --------------------


@pytest.mark.slow
@pytest.mark.client
@pytest.mark.parametrize("outcome", ["pass", "fail"])
def test_project_tests_run_against_the_installed_wheel(
    verifier: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path, outcome: str
) -> None:
    """The generated tests and pyproject.toml (pytest's settings), copied as the publish workflow's
    artifact holds them, pass against the wheel from the index; a failing test fails the check."""
    project, dists = build_once("integrity-library", VERIFIED_LIBRARY)
    tests = tmp_path / "release-tests"
    shutil.copytree(project / "tests", tests / "tests")
    shutil.copy2(project / "pyproject.toml", tests)
    if outcome == "fail":
        (tests / "tests" / "test_broken.py").write_text("def test_broken() -> None:\n    assert 1 == 2\n")
    with serve_index() as index, serve_index() as deps:
        index.publish(dists.sdist, dists.wheel)
        deps.publish(*requirement_wheels("pytest>=9").glob("*.whl"))
        log: list[str] = []
        argv = verify_argv(index, deps, dists.wheel.parent, "--import", "acme_verify", "--tests", str(tests),
                           "--test-requirement", "pytest>=9")  # fmt: skip
        code = verifier.main(argv, sleep=lambda _: None, log=log.append)
    err = capsys.readouterr().err
    report = "\n".join(log)
    if outcome == "pass":
        assert code == 0, err
        assert re.search(r"^tests/test_acme_verify\.py \.\s", report, re.MULTILINE), report
        assert f"the tests in {tests}: OK" in log
    else:
        assert code == 1
        assert err.startswith(f"error: the tests in {tests} failed against the wheel installed from the index"), err
        assert "1 failed, 1 passed" in err, err


def test_provenance_without_pypi_attestations_says_what_to_install(
    verifier: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--repository by hand, where pypi-attestations is not installed: an error line, not a traceback."""
    monkeypatch.setitem(sys.modules, "pypi_attestations", None)  # what `import` then raises: ImportError
    wheel = tmp_path / "demo_pkg-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    built = verifier.Built(wheel, verifier.sha256_of(wheel))
    served = verifier.Served(wheel.name, "http://127.0.0.1/x", built.sha256, "http://127.0.0.1/x.provenance")
    with pytest.raises(verifier.VerifyError, match="needs pypi-attestations, which is not installed: pip install"):
        verifier.check_provenance(built, served, verifier.Identity("acme/demo", "publish.yml", "testpypi"))


def test_a_broken_pypi_attestations_is_not_called_missing(
    verifier: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed but unusable (a release without GitHubPublisher): Python's own error, not "not installed"."""
    monkeypatch.setitem(sys.modules, "pypi_attestations", ModuleType("pypi_attestations"))
    with pytest.raises(ImportError, match="cannot import name"):
        verifier.check_provenance(None, None, None)
