"""Release integrity: an index must serve exactly the files the release built, signed for this repository.

The generated `.github/scripts/verify_upload.py` (run by the verify-testpypi and verify-pypi jobs)
against package indexes on 127.0.0.1: `support.index.serve_index` (PEP 691 JSON or PEP 503 `#sha256=`
links, PyPI's integrity API, a log of every request) and pypiserver; and its PEP 740 check against
the real trusted-publishing provenance files that the pypi-attestations sdist ships (test/assets),
verified offline with sigstore's embedded trust root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scenarios import VERIFIED_LIBRARY, VERIFIED_META
from support.builds import Dists, build_environment, build_once
from support.clients import cached_client
from support.config import PYTHON_VERSIONS, TEMPLATE_ROOT, table
from support.envs import cache_dirs, make_venv
from support.index import LocalIndex, free_port, serve_index, wait_for
from support.proc import PYTHON, import_script, run
from support.render import render_project
from support.wheels import metadata_wheel

VERIFY_SCRIPT = TEMPLATE_ROOT / "template" / ".github" / "scripts" / "verify_upload.py"
PROJECT, VERSION = VERIFIED_LIBRARY["project_name"], VERIFIED_LIBRARY["version"]
WHEEL, SDIST = f"acme_verify-{VERSION}-py3-none-any.whl", f"acme_verify-{VERSION}.tar.gz"
(ATTESTATIONS,) = [r.split("==")[1] for r in table("verify_tools") if r.startswith("pypi-attestations==")]


@pytest.fixture(scope="module")
def verifier() -> ModuleType:
    return import_script(VERIFY_SCRIPT, "verify_upload")


@pytest.fixture(scope="module")
def library() -> Dists:
    return build_once("integrity-library", VERIFIED_LIBRARY)[1]


@pytest.fixture
def index() -> Iterator[LocalIndex]:
    with serve_index() as served:
        yield served


@pytest.fixture
def deps() -> Iterator[LocalIndex]:
    """The "PyPI" of a test: where dependencies come from; empty unless a test publishes to it."""
    with serve_index() as served:
        yield served


def argv(index: LocalIndex, deps: LocalIndex, dist: Path, *extra: str, project: str = PROJECT) -> list[str]:
    return ["--index-url", index.simple, "--deps-index-url", deps.simple, "--project", project,
            "--version", VERSION, "--dist", str(dist), "--attempts", "3", "--initial-delay", "1",
            "--max-delay", "1", *extra]  # fmt: skip


def tampered(path: Path, dst: Path) -> Path:
    """The same file name with other bytes: what an earlier upload of the version would be."""
    dst.mkdir(parents=True, exist_ok=True)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # a zip or gzip stream with one byte flipped: other bytes, same name
    (dst / path.name).write_bytes(bytes(data))
    return dst / path.name


class Sleeps(list[float]):
    """Records the waits; the first wait can publish what the index lacked (its lag ending)."""

    def __init__(self, on_first_wait: Any = None) -> None:
        super().__init__()
        self.on_first_wait = on_first_wait

    def __call__(self, seconds: float) -> None:
        if not self and self.on_first_wait:
            self.on_first_wait()
        self.append(seconds)


# --- The served files are the built files -----------------------------------------------------


@pytest.mark.slow
def test_waits_for_the_index_then_verifies_and_installs_the_built_wheel(
    verifier: ModuleType,
    library: Dists,
    deps: LocalIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The index lacks the upload at first, as TestPyPI right after it; then serves both files."""
    with serve_index() as index:
        # An earlier release's files are on the page too: only this version's are compared.
        index.files["acme_verify-0.2.0-py3-none-any.whl"] = b"an earlier release"
        sleeps = Sleeps(lambda: index.publish(library.sdist, library.wheel))
        log: list[str] = []
        code = verifier.main(
            argv(index, deps, library.wheel.parent, "--import", "acme_verify"), sleep=sleeps, log=log.append
        )
        assert code == 0, capsys.readouterr().err
        assert sleeps == [1]
        assert log[1].startswith("attempt 1/3 failed, retrying in 1s:")
        assert f"does not serve {WHEEL} (for this version it serves: nothing)" in log[1]
        assert f"{index.simple} serves exactly the 2 built files (sha256)" in log
        assert log[-2:] == ["import acme_verify: OK", f"{PROJECT}=={VERSION} verified on {index.simple}: OK"]
        # pip took the wheel, by its hash, and never the sdist.
        assert f"/files/{WHEEL}" in index.log
        assert f"/files/{SDIST}" not in index.log


@pytest.mark.slow
def test_a_different_file_under_the_same_version_fails_at_once(
    verifier: ModuleType,
    library: Dists,
    index: LocalIndex,
    deps: LocalIndex,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """TestPyPI's skip-existing kept an earlier run's wheel: these bytes must not reach PyPI."""
    index.publish(library.sdist, tampered(library.wheel, tmp_path / "earlier"))
    sleeps = Sleeps()
    assert verifier.main(argv(index, deps, library.wheel.parent), sleep=sleeps, log=lambda _: None) == 1
    err = capsys.readouterr().err
    assert f"serves {WHEEL} with sha256 " in err
    assert f"but this run built sha256 {verifier.sha256_of(library.wheel)}" in err
    assert err.rstrip().endswith("Upload nothing more: bump the version and release again")
    assert sleeps == []  # waiting cannot change a file


# Files of this version nobody built here: other tags, or the version spelled another way, which
# pip's `==VERSION` installs and PyPI files under the same release (0.3 is 0.3.0 is 0.3.0.0).
STRANGERS = [
    f"acme_verify-{VERSION}-py2.py3-none-any.whl",
    f"acme_verify-{VERSION.removesuffix('.0')}-1-py3-none-any.whl",
    f"acme_verify-{VERSION}.0.tar.gz",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", STRANGERS)
def test_a_file_nobody_built_here_fails_at_once(
    verifier: ModuleType,
    library: Dists,
    index: LocalIndex,
    deps: LocalIndex,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    stranger = tmp_path / name
    shutil.copy(library.sdist if name.endswith(".tar.gz") else library.wheel, stranger)
    index.publish(library.sdist, library.wheel, stranger)
    sleeps = Sleeps()
    assert verifier.main(argv(index, deps, library.wheel.parent), sleep=sleeps, log=lambda _: None) == 1
    err = capsys.readouterr().err
    assert f"serves {stranger.name} for this version, which this run did not build" in err
    assert "bump the version and release again" in err
    assert sleeps == []


@pytest.fixture
def html_index() -> Iterator[LocalIndex]:
    """An index without PEP 691: PEP 503 pages, the hash in each link's `#sha256=`."""
    with serve_index(json_api=False) as served:
        yield served


@pytest.mark.slow
def test_an_sdist_only_index_fails_without_a_request_for_a_build_dependency(
    verifier: ModuleType,
    library: Dists,
    html_index: LocalIndex,
    deps: LocalIndex,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whoever owns `uv-build` on TestPyPI must never run code in the verify job."""
    index = html_index
    index.publish(library.sdist)
    sleeps = Sleeps()
    assert verifier.main(argv(index, deps, library.wheel.parent), sleep=sleeps, log=lambda _: None) == 1
    err = capsys.readouterr().err
    assert f"gave up after 3 attempts over 2s: {index.simple} does not serve {WHEEL}" in err
    assert f"(for this version it serves: {SDIST})" in err
    assert "bump the version" in err
    # pip itself, given the page (as when the listing and pip's view of it disagree): wheels only.
    python = verifier.make_environment(tmp_path / "venv")
    built = verifier.built_files(library.wheel.parent, PROJECT, VERSION)
    with pytest.raises(verifier.NotServedYet, match=r"No matching distribution found for acme-verify==0.3.0"):
        verifier.install_wheel(python, index.simple, f"{PROJECT}=={VERSION}", built, tmp_path)
    assert set(index.log) == {f"/simple/{PROJECT}/"}, index.log  # no sdist download, no /simple/uv-build/


@pytest.mark.slow
def test_real_pep503_index_hashes_are_compared(verifier: ModuleType, library: Dists, tmp_path: Path) -> None:
    """pypiserver's `#sha256=` links (a real PEP 503 index): the built files match, others do not."""
    packages = tmp_path / "packages"
    packages.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "pypiserver", "run", "--host", "127.0.0.1", "--port", str(port), "--disable-fallback",
         "--hash-algo", "sha256", str(packages)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        simple = f"http://127.0.0.1:{port}/simple/"
        wait_for(proc, f"http://127.0.0.1:{port}/health")
        built = verifier.built_files(library.wheel.parent, PROJECT, VERSION)
        shutil.copy(library.sdist, packages)
        shutil.copy(tampered(library.wheel, tmp_path / "earlier"), packages)
        with pytest.raises(verifier.VerifyError, match=f"serves {WHEEL} with sha256"):
            verifier.compare(built, verifier.served_files(simple, PROJECT), simple)
        shutil.copy(library.wheel, packages)
        # pypiserver drops a file's cached digest when watchdog reports the change: poll, bounded.
        deadline = time.monotonic() + 20
        while (served := verifier.served_files(simple, PROJECT))[WHEEL].sha256 != verifier.sha256_of(library.wheel):
            assert time.monotonic() < deadline, "pypiserver kept serving the old digest"
            time.sleep(0.1)
        entries = verifier.compare(built, served, simple)
        assert [e.sha256 for e in entries] == [b.sha256 for b in built]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- Only the index's lag is retried ------------------------------------------------------------


def test_a_misspelt_name_fails_before_any_request(
    verifier: ModuleType,
    tmp_path: Path,
    index: LocalIndex,
    deps: LocalIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    metadata_wheel(dist, "acme_verify", VERSION)
    assert verifier.main(argv(index, deps, dist, project="acme-verfy"), sleep=Sleeps(), log=lambda _: None) == 1
    assert "--project acme-verfy --version 0.3.0 does not name the built" in capsys.readouterr().err
    assert index.log == []


def test_an_interpreter_without_pip_is_named_before_any_request(
    tmp_path: Path, index: LocalIndex, deps: LocalIndex
) -> None:
    """A virtual environment made by uv has no pip: the script says how to run it, and asks no index."""
    python = make_venv(tmp_path / "venv")
    dist = tmp_path / "dist"
    metadata_wheel(dist, "acme_verify", VERSION)
    proc = subprocess.run(
        [python, VERIFY_SCRIPT, *argv(index, deps, dist)], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == (
        f"error: pip is not installed for {python} (an environment made by uv has none): "
        "run `uv run .github/scripts/verify_upload.py ...`, which installs it for the script\n"
    )
    assert index.log == []
    assert deps.log == []


@pytest.mark.slow
def test_a_python_the_release_does_not_support_is_not_retried(
    verifier: ModuleType,
    index: LocalIndex,
    deps: LocalIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pip prints "No matching distribution" here too; "require a different python" makes it final."""
    newest = PYTHON_VERSIONS[-1]
    assert sys.version_info[:2] < tuple(map(int, newest.split(".")))
    dists = build_once(f"integrity-python-{newest}", {**VERIFIED_LIBRARY, "python_min": newest})[1]
    index.publish(dists.sdist, dists.wheel)
    sleeps = Sleeps()
    assert verifier.main(argv(index, deps, dists.wheel.parent), sleep=sleeps, log=lambda _: None) == 1
    err = capsys.readouterr().err
    assert "ERROR: Package 'acme-verify' requires a different Python" in err
    assert "gave up" not in err
    assert sleeps == []


def test_a_project_the_index_does_not_know_yet_is_its_lag(verifier: ModuleType, index: LocalIndex) -> None:
    """A first release: the project page is a 404 until the index has caught up."""
    with pytest.raises(verifier.NotServedYet, match=f"{index.simple}acme-verify/ answered HTTP 404"):
        verifier.served_files(index.simple, "Acme.Verify")
    assert index.log == ["/simple/acme-verify/"]  # asked for by its normalised name


def test_pip_output_decides_what_is_retried(verifier: ModuleType, tmp_path: Path) -> None:
    def fails_with(output: str) -> type[BaseException]:
        with pytest.raises(verifier.VerifyError) as exc:
            verifier.run([PYTHON, "-c", f"import sys; print({output!r}); sys.exit(1)"], tmp_path)
        return exc.type

    assert fails_with("ERROR: No matching distribution found for acme==1.0") is verifier.NotServedYet
    assert (
        fails_with("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.") is verifier.VerifyError
    )
    assert (
        fails_with("ERROR: Could not install packages due to an OSError: [Errno 28] No space left")
        is verifier.VerifyError
    )


# --- Nothing from the runner's pip settings reaches pip's build subprocess ------------------------


def flit_core_wheel() -> Path:
    """A real build backend wheel for the local "PyPI" (downloaded once per machine)."""
    requirement = table("backends")["flit-core"]["requires"]

    def make(root: Path) -> None:
        run(
            [PYTHON, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", requirement, "-d", root]
        )

    (wheel,) = cached_client("flit-core-wheel", {"requirement": requirement}, make).glob("flit_core-*.whl")
    return wheel


def dependency_sdist(dst: Path) -> Path:
    """`acme-dep` 0.1 as an sdist only: installing it builds it, with flit-core from the index."""
    project = dst / "acme-dep"
    (project / "acme_dep").mkdir(parents=True)
    (project / "acme_dep" / "__init__.py").write_text(
        '"""A dependency only published as an sdist."""\n', encoding="utf-8"
    )
    requires = table("backends")["flit-core"]["requires"]
    (project / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["{requires}"]\nbuild-backend = "flit_core.buildapi"\n\n'
        '[project]\nname = "acme-dep"\nversion = "0.1"\ndescription = "dep"\n',
        encoding="utf-8",
    )
    python = build_environment([requires])
    run([python, "-m", "build", "--sdist", "--no-isolation", "--outdir", dst / "dist", project])
    (sdist,) = (dst / "dist").glob("*.tar.gz")
    return sdist


@pytest.mark.client
def test_pip_variables_never_reach_a_build_subprocess(
    verifier: ModuleType,
    deps: LocalIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--isolated` shields pip, not the pip it starts to install build dependencies."""
    deps.publish(dependency_sdist(tmp_path), flit_core_wheel())
    with serve_index() as elsewhere:
        elsewhere.publish(flit_core_wheel())
        monkeypatch.setenv("PIP_EXTRA_INDEX_URL", elsewhere.simple)
        monkeypatch.setenv("PIP_INDEX_URL", elsewhere.simple)
        install = verifier.pip(
            verifier.make_environment(tmp_path / "venv"), "install", "--index-url", deps.simple, "acme-dep==0.1"
        )
        verifier.run(install, tmp_path)
        assert "/simple/flit-core/" in deps.log
        assert elsewhere.log == []
        # The same command with the runner's environment: the build subprocess asks the other index.
        again = [*install[:-1], "--force-reinstall", "--no-cache-dir"]
        proc = subprocess.run(again, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "/simple/flit-core/" in elsewhere.log, elsewhere.log


# --- Meta-packages: every extra resolves --------------------------------------------------------


@pytest.fixture(scope="module")
def extra_wheel() -> Path:
    return build_once("integrity-extra", {**VERIFIED_LIBRARY, "project_name": "acme-extra", "version": "1.0.0"})[
        1
    ].wheel


@pytest.mark.slow
def test_verify_job_installs_all_extras_of_a_meta_package(
    verifier: ModuleType,
    index: LocalIndex,
    deps: LocalIndex,
    extra_wheel: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    meta = build_once("integrity-meta", VERIFIED_META)[1]
    index.publish(meta.sdist, meta.wheel)
    args = [*argv(index, deps, meta.wheel.parent, "--extra", "all", project="acme-meta"), "--attempts", "1"]
    # An extra that cannot resolve fails the gate (in verify-testpypi: before the PyPI upload).
    assert verifier.main(args, sleep=Sleeps(), log=lambda _: None) == 1
    assert "No matching distribution found for acme-extra>=1.0" in capsys.readouterr().err
    deps.publish(extra_wheel)
    log: list[str] = []
    assert verifier.main(args, sleep=Sleeps(), log=log.append) == 0, capsys.readouterr().err
    installed = next(line for line in log if line.startswith("installed: "))
    assert {"acme-meta==0.3.0", "acme-extra==1.0.0"} <= set(installed.split()[1:])
    assert log[-1] == f"acme-meta[all]=={VERSION} verified on {index.simple}: OK"


@pytest.mark.slow
def test_release_check_fails_when_an_extra_cannot_resolve(deps: LocalIndex, extra_wheel: Path, tmp_path: Path) -> None:
    """The local gate before a manual upload: `[all]` from the wheel, resolved like any install."""
    project = render_project(tmp_path / "acme-meta", {**VERIFIED_META, "extras": {"cli": ["acme-extra>=2.0"]}})
    deps.publish(extra_wheel)  # only 1.0.0: uv takes a name from the first index that has it
    env = {**os.environ, "HOME": str(tmp_path), **cache_dirs(), "UV_INDEX": deps.simple,
           "PATH": os.pathsep.join([str(Path(PYTHON).parent), os.environ["PATH"]])}  # fmt: skip
    proc = subprocess.run(
        [PYTHON, "scripts/release_check.py"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL  install         the wheel does not install and load cleanly" in proc.stdout
    assert "acme-extra>=2.0" in proc.stdout
    assert "1 of 7 steps FAILED" in proc.stdout
    assert "/simple/acme-extra/" in deps.log


# --- Provenance (PEP 740): real attestations, verified offline ----------------------------------


def attestation_assets() -> Path:
    """test/assets of the pypi-attestations sdist the workflows pin (downloaded once per machine)."""

    def make(root: Path) -> None:
        run([PYTHON, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"pypi-attestations=={ATTESTATIONS}", "-d", root])  # fmt: skip
        (sdist,) = root.glob("*.tar.gz")
        with tarfile.open(sdist) as tf:
            members = [m for m in tf.getmembers() if "/test/assets/" in m.name and m.isfile()]
            for member in members:
                member.name = Path(member.name).name
            tf.extractall(root / "assets", members=members, filter="data")

    return cached_client("pypi-attestations-sdist", {"version": ATTESTATIONS}, make) / "assets"


# The one GitHub trusted-publishing provenance in the assets, and who published it.
SIGNED = "pypi_attestations-0.0.19.tar.gz"
TRUE = ("trailofbits/pypi-attestations", "release.yml", None)


def test_provenance_is_tested_with_the_pinned_verifier() -> None:
    """The verify jobs install exactly the pypi-attestations these tests run (docs/decisions.md)."""
    import importlib.metadata
    import tomllib

    assert importlib.metadata.version("pypi-attestations") == ATTESTATIONS
    group = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["dependency-groups"]["test"]
    assert f"pypi-attestations>={ATTESTATIONS}" in group


@pytest.fixture(scope="module")
def assets() -> Path:
    return attestation_assets()


@pytest.fixture
def offline_sigstore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sigstore keeps its TUF cache under the XDG folders: a fresh one holds only the embedded root.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def check(verifier: ModuleType, index: LocalIndex, file: Path, identity: tuple[str, str, str | None]) -> None:
    """What the verify job does for one file: the index's entry, then its provenance."""
    built = verifier.Built(file, verifier.sha256_of(file))
    project = file.name.split("-")[0]
    (entry,) = verifier.compare([built], verifier.served_files(index.simple, project), index.simple)
    verifier.check_provenance(built, entry, verifier.Identity(*identity), offline=True)


def edited_provenance(assets: Path, **publisher: str) -> bytes:
    """The real provenance with PyPI's unsigned publisher record changed: signatures untouched."""
    data = json.loads((assets / f"{SIGNED}.provenance").read_bytes())
    data["attestation_bundles"][0]["publisher"].update(publisher)
    return json.dumps(data).encode()


@pytest.mark.client
@pytest.mark.usefixtures("offline_sigstore")
def test_true_publisher_passes(verifier: ModuleType, assets: Path, index: LocalIndex) -> None:
    index.publish(assets / SIGNED)
    index.provenance[SIGNED] = (assets / f"{SIGNED}.provenance").read_bytes()
    check(verifier, index, assets / SIGNED, TRUE)
    assert f"/integrity/pypi-attestations/0.0.19/{SIGNED}/provenance" in index.log


FOREIGN = [
    pytest.param(("acme/pypi-attestations", "release.yml", None), {},
                 "names the publisher trailofbits/pypi-attestations release.yml None", id="another-repository"),
    pytest.param(("trailofbits/pypi-attestations", "publish.yml", None), {},
                 "names the publisher trailofbits/pypi-attestations release.yml None", id="another-workflow"),
    pytest.param(("trailofbits/pypi-attestations", "release.yml", "pypi"), {},
                 "names the publisher trailofbits/pypi-attestations release.yml None", id="another-environment"),
    # The record can be edited, the certificate cannot: sigstore refuses the signer.
    pytest.param(("acme/pypi-attestations", "release.yml", None), {"repository": "acme/pypi-attestations"},
                 "does not verify: .*OIDCSourceRepositoryURI does not match", id="record-claims-another-repository"),
    pytest.param(("trailofbits/pypi-attestations", "publish.yml", None), {"workflow": "publish.yml"},
                 "does not verify: .*Build Config URI", id="record-claims-another-workflow"),
]  # fmt: skip


@pytest.mark.client
@pytest.mark.parametrize(("identity", "record", "message"), FOREIGN)
@pytest.mark.usefixtures("offline_sigstore")
def test_foreign_publisher_fails(
    verifier: ModuleType,
    assets: Path,
    index: LocalIndex,
    identity: tuple[str, str, str | None],
    record: dict[str, str],
    message: str,
) -> None:
    index.publish(assets / SIGNED)
    index.provenance[SIGNED] = edited_provenance(assets, **record)
    with pytest.raises(verifier.VerifyError, match=message):
        check(verifier, index, assets / SIGNED, identity)


@pytest.mark.client
@pytest.mark.usefixtures("offline_sigstore")
def test_tampered_file_fails(verifier: ModuleType, assets: Path, index: LocalIndex, tmp_path: Path) -> None:
    """An index serving other bytes with their own sha256 and the real provenance: the signature decides."""
    other = tampered(assets / SIGNED, tmp_path / "tampered")
    index.publish(other)
    index.provenance[SIGNED] = (assets / f"{SIGNED}.provenance").read_bytes()
    with pytest.raises(
        verifier.VerifyError, match="does not verify: Verification failed: subject does not match distribution digest"
    ):
        check(verifier, index, other, TRUE)


@pytest.mark.client
@pytest.mark.usefixtures("offline_sigstore")
def test_missing_or_non_github_provenance_fails(
    verifier: ModuleType,
    assets: Path,
    index: LocalIndex,
) -> None:
    index.publish(assets / SIGNED)
    with pytest.raises(
        verifier.VerifyError,
        match=f"the index lists no provenance for {SIGNED}: it was not uploaded by trusted publishing",
    ):
        check(verifier, index, assets / SIGNED, TRUE)
    google = "gcb_attestation_test-0.0.0.tar.gz"  # a real provenance from a Google Cloud publisher
    index.publish(assets / google)
    index.provenance[google] = (assets / f"{google}.provenance").read_bytes()
    with pytest.raises(verifier.VerifyError, match="names the publisher Google, not trailofbits"):
        check(verifier, index, assets / google, TRUE)


@pytest.mark.client
@pytest.mark.usefixtures("offline_sigstore")
def test_a_publisher_with_no_attestation_fails(verifier: ModuleType, assets: Path, index: LocalIndex) -> None:
    """A record that names the true publisher and holds nothing signed verifies nothing."""
    data = json.loads((assets / f"{SIGNED}.provenance").read_bytes())
    data["attestation_bundles"][0]["attestations"] = []
    index.publish(assets / SIGNED)
    index.provenance[SIGNED] = json.dumps(data).encode()
    with pytest.raises(verifier.VerifyError, match=f"the provenance of {SIGNED} names its publisher but holds no"):
        check(verifier, index, assets / SIGNED, TRUE)


@pytest.mark.slow
def test_the_workflow_command_line_checks_provenance(
    verifier: ModuleType,
    library: Dists,
    index: LocalIndex,
    deps: LocalIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--repository` turns the check on: files uploaded without trusted publishing fail it."""
    index.publish(library.sdist, library.wheel)
    identity = ["--repository", "Acme-Corp/acme-verify", "--workflow", "publish.yml", "--environment", "pypi"]
    assert verifier.main(argv(index, deps, library.wheel.parent, *identity), sleep=Sleeps(), log=lambda _: None) == 1
    assert f"the index lists no provenance for {WHEEL}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        verifier.parse_args(argv(index, deps, library.wheel.parent, "--repository", "Acme-Corp/acme-verify"))
    assert "--repository needs --environment" in capsys.readouterr().err


def test_environment_for_pip_has_no_pip_settings(verifier: ModuleType) -> None:
    env = verifier.pip_environment({"PIP_INDEX_URL": "x", "pip_extra_index_url": "y", "PATH": "/bin"})
    assert env == {"PATH": "/bin", "PIP_CONFIG_FILE": os.devnull}
