#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pip>=22.3"]
# ///
"""Prove that a package index serves exactly the files this run built, then install them from it.

The publish workflow runs it after each upload (TestPyPI before PyPI, and PyPI after), with the
`dist` artifact the upload sent. In order, each time:

1. The index's page for the project lists every built file for this version, with the same
   sha256 (PEP 691 JSON when the index serves it, else the PEP 503 `#sha256=` links), and no
   other file for this version. A file it does not list yet is the index's lag: retried with a
   bounded backoff. A different file, or one nobody built here, is final: bump the version.
2. With `--repository`, every file's PEP 740 provenance (the URL the index lists for it: PyPI's
   integrity API) names a GitHub trusted publisher for this repository, workflow and
   environment, and each attestation verifies for the file's sha256 (pypi-attestations, which
   checks the Sigstore certificate, signature and transparency log).
3. One of the built wheels fits this host (its Python, operating system and architecture): asked
   of pip against the built files alone, before any index, so a platform the build left out fails
   at once with the list of wheels built, never as an index's lag and never by building the sdist.
   That wheel installs from the index alone (`--no-deps`, `--only-binary :all:`, pinned to
   its sha256), so no sdist is built and no build dependency is fetched from a test index; its
   dependencies (a meta-package: `name[all]`) then come from `--deps-index-url` (PyPI) only,
   never from both indexes (dependency confusion). pip runs `--isolated` with no PIP_* variable
   and no configuration file, which its build subprocesses would otherwise still read.
4. The installed version is the one released; a library imports from an empty folder; with
   `--command`, the command the wheel installs runs `--version` and prints the version released;
   with `--tests`, the project's tests (a copy of the folder, with its pyproject.toml for pytest's
   settings) run against the installed wheel, after `--test-requirement`s from `--deps-index-url`.

Only the index's lag is retried (a file not listed yet, pip's "No matching distribution"); a
Python the release does not support, a misspelt name or a different file fail at once.
Standard library only, except pip (22.3 or later, which installs into another environment) and
pypi-attestations for step 2 (Python 3.10+). The publish workflow runs it with setup-python's pip;
by hand, `uv run .github/scripts/verify_upload.py ...` gives it pip (the `# /// script` block
above), which an environment made by uv lacks:

    python verify_upload.py --index-url https://test.pypi.org/simple/ --project acme-tools \\
        --version 1.2.3 --dist dist --import acme_tools --command acme-tools \\
        --repository acme/acme-tools --workflow publish.yml --environment testpypi
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import html.parser
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import venv
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PYPI_SIMPLE = "https://pypi.org/simple/"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
INTEGRITY_JSON = "application/vnd.pypi.integrity.v1+json"
# pip output that the index's lag explains: the file is not served yet.
LAG_SIGNS = ("No matching distribution found", "Could not find a version that satisfies")
# pip output that no wait can change, even next to a lag sign (pip prints both for a wrong Python).
FINAL_SIGNS = (
    "a different python",
    "DO NOT MATCH THE HASHES",
    "ResolutionImpossible",
    "conflicting dependencies",
    "Invalid requirement",
)
BUMP = "bump the version and release again"


class VerifyError(Exception):
    """The upload cannot be verified, and waiting will not change that: the message says why."""


class NotServedYet(VerifyError):
    """What the index's lag explains: the only failure that is retried."""


@dataclass(frozen=True)
class Built:
    path: Path
    sha256: str


@dataclass(frozen=True)
class Served:
    filename: str
    url: str
    sha256: str | None
    provenance: str | None


# --- Retry ------------------------------------------------------------------------------------
def backoff_delays(attempts: int, initial: float, maximum: float) -> list[float]:
    """Seconds to wait after each failed attempt but the last: doubling, capped at `maximum`."""
    if attempts < 1 or initial <= 0 or maximum < initial:
        raise ValueError(
            f"need attempts >= 1 and 0 < initial <= maximum, got {attempts}, {initial}, {maximum}"
        )
    return [min(initial * 2**n, maximum) for n in range(attempts - 1)]


def retry(
    action: Callable[[], object],
    delays: Sequence[float],
    *,
    sleep: Callable[[float], object] = time.sleep,
    log: Callable[[str], object] = print,
) -> None:
    """Run `action` until it stops raising NotServedYet, at most len(delays) + 1 times.

    Any other error ends it at once: only the index's lag can be waited out.
    """
    attempts = len(delays) + 1
    for attempt in range(1, attempts + 1):
        try:
            action()
            return
        except NotServedYet as exc:
            if attempt == attempts:
                raise VerifyError(
                    f"gave up after {attempts} attempts over {sum(delays):.0f}s: {exc}"
                ) from exc
            wait = delays[attempt - 1]
            log(f"attempt {attempt}/{attempts} failed, retrying in {wait:.0f}s: {exc}")
            sleep(wait)


# --- The built files --------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalize(name: str) -> str:
    """PEP 503: how indexes and pip compare project names."""
    return re.sub(r"[-_.]+", "-", name).lower()


# PEP 440's version scheme (its appendix's pattern), to tell spellings of one version apart.
PEP440 = re.compile(
    r"v?(?:(?P<epoch>[0-9]+)!)?(?P<release>[0-9]+(?:\.[0-9]+)*)"
    r"(?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?"
    r"(?P<post>-(?P<post_n1>[0-9]+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?"
    r"(?P<dev>[-_.]?dev[-_.]?(?P<dev_n>[0-9]+)?)?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?",
    re.IGNORECASE,
)
PRE = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}


def same_version(version: str) -> str:
    """`version` as PEP 440 compares it (pip's `==0.1.0` installs a `0.1` or a `0.1.0.0` too, and PyPI
    files them under one release): the key of its spelling, or the text itself if it is none."""
    match = PEP440.fullmatch(version.strip())
    if not match:
        return version
    release = [int(part) for part in match["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    key = f"{int(match['epoch'] or 0)}!{'.'.join(map(str, release))}"
    if match["pre_l"]:
        pre = match["pre_l"].lower()
        key += f"{PRE.get(pre, pre)}{int(match['pre_n'] or 0)}"
    if match["post"]:
        key += f".post{int(match['post_n1'] or match['post_n2'] or 0)}"
    if match["dev"]:
        key += f".dev{int(match['dev_n'] or 0)}"
    if match["local"]:
        parts = re.split(r"[-_.]", match["local"].lower())
        key += "+" + ".".join(str(int(p)) if p.isdigit() else p for p in parts)
    return key


def filename_version(filename: str) -> tuple[str, str] | None:
    """(normalised name, version as PEP 440 compares it) from a wheel or sdist file name, or None
    for other files."""
    if filename.endswith(".whl"):
        parts = filename[: -len(".whl")].split("-")
        return (normalize(parts[0]), same_version(parts[1])) if len(parts) >= 5 else None
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            name, _, version = filename[: -len(suffix)].rpartition("-")
            return (normalize(name), same_version(version)) if name else None
    return None


def wheel_metadata(path: Path) -> tuple[str, str]:
    with zipfile.ZipFile(path) as zf:
        names = [
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        if len(names) != 1:
            raise VerifyError(f"{path.name} has no single METADATA file: it is not a valid wheel")
        meta = email.parser.BytesParser().parsebytes(zf.read(names[0]), headersonly=True)
    return meta["Name"], meta["Version"]


def built_files(dist: Path, project: str, version: str) -> list[Built]:
    """Every sdist and wheel in `dist`; the wheels must be `project` at `version`."""
    paths = sorted(p for p in dist.iterdir() if filename_version(p.name)) if dist.is_dir() else []
    wheels = [p for p in paths if p.name.endswith(".whl")]
    if not wheels:
        raise VerifyError(f"{dist} holds no wheel: download the build job's `dist` artifact first")
    for wheel in wheels:
        name, built_version = wheel_metadata(wheel)
        if normalize(name) != normalize(project) or built_version != version:
            raise VerifyError(
                f"--project {project} --version {version} does not name the built {wheel.name} "
                f"({name} {built_version}): pass the name and version the build job built"
            )
    return [Built(p, sha256_of(p)) for p in paths]


# --- The index --------------------------------------------------------------------------------
def fetch(url: str, accept: str) -> tuple[bytes, str, str]:
    """(body, content type, final URL) of a GET; a 404 or a server error is the index's lag."""
    request = urllib.request.Request(
        url, headers={"Accept": accept, "User-Agent": "verify_upload.py"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read(), response.headers.get_content_type(), response.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code == 404 or exc.code == 429 or exc.code >= 500:
            raise NotServedYet(f"{url} answered HTTP {exc.code}") from exc
        raise VerifyError(f"{url} answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise NotServedYet(f"{url}: {exc}") from exc


class _Links(html.parser.HTMLParser):
    """The anchors of a PEP 503 page: (href, data-provenance)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append((str(found["href"]), found.get("data-provenance")))


def served_files(index_url: str, project: str) -> dict[str, Served]:
    """The files the index lists for `project`, by file name, with the hashes it states."""
    page = urllib.parse.urljoin(index_url.rstrip("/") + "/", normalize(project) + "/")
    body, content_type, final = fetch(page, f"{SIMPLE_JSON}, text/html;q=0.1")
    files: dict[str, Served] = {}
    if content_type == SIMPLE_JSON:  # PEP 691
        for entry in json.loads(body)["files"]:
            url = urllib.parse.urljoin(final, entry["url"])
            files[entry["filename"]] = Served(
                entry["filename"],
                url,
                entry.get("hashes", {}).get("sha256"),
                entry.get("provenance"),
            )
        return files
    parser = _Links()  # PEP 503: the hash is the URL's `#sha256=` fragment
    parser.feed(body.decode("utf-8", errors="replace"))
    for href, provenance in parser.links:
        url, _, fragment = urllib.parse.urljoin(final, href).partition("#")
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        algorithm, _, value = fragment.partition("=")
        sha256 = value if algorithm == "sha256" and value else None
        files[filename] = Served(filename, url, sha256, provenance)
    return files


def compare(built: Sequence[Built], served: Mapping[str, Served], index_url: str) -> list[Served]:
    """The served entry of every built file, once the index serves all of them byte for byte."""
    versions = {filename_version(b.path.name) for b in built}
    listed = sorted(f for f in served if filename_version(f) in versions)
    foreign = [f for f in listed if f not in {b.path.name for b in built}]
    if foreign:
        raise VerifyError(
            f"{index_url} serves {', '.join(foreign)} for this version, which this run did not "
            f"build: it was uploaded some other way. Nothing can replace a file on an index: {BUMP}"
        )
    entries = []
    for file in built:
        entry = served.get(file.path.name)
        if entry is None:
            raise NotServedYet(
                f"{index_url} does not serve {file.path.name} (for this version it serves: "
                f"{', '.join(listed) or 'nothing'}). The index may still be catching up; if it "
                f"never serves it, an earlier upload of this version holds other files: {BUMP}"
            )
        if entry.sha256 is None:
            raise VerifyError(f"{index_url} states no sha256 for {file.path.name}")
        if entry.sha256.lower() != file.sha256:
            raise VerifyError(
                f"{index_url} serves {file.path.name} with sha256 {entry.sha256}, but this run "
                f"built sha256 {file.sha256}: the index holds an earlier upload of this version "
                f"(TestPyPI skips files it already has), not these bytes. Upload nothing more: "
                f"{BUMP}"
            )
        entries.append(entry)
    return entries


# --- Provenance (PEP 740) ---------------------------------------------------------------------
@dataclass(frozen=True)
class Identity:
    repository: str
    workflow: str
    environment: str


def check_provenance(
    file: Built, entry: Served, identity: Identity, *, offline: bool = False
) -> None:
    """The file's provenance names `identity`, and every attestation in it verifies for the file."""
    # pypi-attestations does the cryptography (the publish workflow installs it for this step).
    try:
        from pypi_attestations import (
            AttestationError,
            Distribution,
            GitHubPublisher,
            Provenance,
        )
    except ModuleNotFoundError as missing:
        if missing.name != "pypi_attestations":
            raise
        raise VerifyError(
            "checking provenance (--repository) needs pypi-attestations, which is not installed: "
            "pip install pypi-attestations, or run uv run --with pypi-attestations "
            ".github/scripts/verify_upload.py ..."
        ) from None

    name = file.path.name
    if not entry.provenance:
        raise VerifyError(
            f"the index lists no provenance for {name}: it was not uploaded by trusted publishing "
            f"from {identity.repository}. Find out who uploaded it, yank this release, then "
            f"{BUMP}"
        )
    body, _, _ = fetch(entry.provenance, INTEGRITY_JSON)
    try:
        provenance = Provenance.model_validate_json(body)
    except ValueError as exc:
        raise VerifyError(
            f"the provenance of {name} ({entry.provenance}) is invalid: {exc}"
        ) from exc
    expected = GitHubPublisher(
        repository=identity.repository,
        workflow=identity.workflow,
        environment=identity.environment,
    )
    distribution = Distribution(name=name, digest=file.sha256)
    for bundle in provenance.attestation_bundles:
        publisher = bundle.publisher
        # The environment is PyPI's record of the trusted publisher: the certificate has none.
        found = (
            (publisher.repository, publisher.workflow, publisher.environment)
            if isinstance(publisher, GitHubPublisher)
            else (publisher.kind,)
        )
        if found != (identity.repository, identity.workflow, identity.environment):
            raise VerifyError(
                f"the provenance of {name} names the publisher {' '.join(map(str, found))}, not "
                f"{identity.repository} {identity.workflow} {identity.environment}: a foreign or "
                f"drifted trusted publisher uploaded it. Check the project's publishers, yank this "
                f"release, then {BUMP}"
            )
        if not bundle.attestations:  # a publisher named, nothing signed: it proves nothing
            raise VerifyError(
                f"the provenance of {name} names its publisher but holds no attestation"
            )
        for attestation in bundle.attestations:
            try:
                attestation.verify(expected, distribution, offline=offline)
            except AttestationError as exc:
                raise VerifyError(f"the provenance of {name} does not verify: {exc}") from exc
    if not provenance.attestation_bundles:
        raise VerifyError(f"the provenance of {name} holds no attestation")


# --- Installing ---------------------------------------------------------------------------------
def pip_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment without PIP_* variables and with no pip configuration file.

    `--isolated` only shields the pip process itself: the pip that installs build dependencies
    runs as a subprocess and would read both.
    """
    env = {k: v for k, v in environ.items() if not k.upper().startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def run(cmd: Sequence[str | Path], cwd: Path) -> str:
    """Run a command; raise NotServedYet or VerifyError (by its output) when it fails."""
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=pip_environment(),
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        lines = output.splitlines()
        message = f"`{' '.join(map(str, cmd))}` exited {proc.returncode}: " + " | ".join(lines[-5:])
        final = any(sign.lower() in output.lower() for sign in FINAL_SIGNS)
        lag = any(sign in output for sign in LAG_SIGNS)
        raise (NotServedYet if lag and not final else VerifyError)(message)
    return proc.stdout


def make_environment(path: Path) -> Path:
    """A new virtual environment without pip (see `pip`); returns its interpreter."""
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def pip(python: Path, *args: str) -> list[str]:
    """The running interpreter's pip, acting on the environment of `python` (pip >= 22.3)."""
    return [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "--isolated",
        "--disable-pip-version-check",
        *args,
        "--no-cache-dir",
    ]


def install_wheel(
    python: Path, index_url: str, requirement: str, built: Sequence[Built], workdir: Path
) -> None:
    """`requirement` from `index_url` alone: a built wheel (by its sha256), never an sdist."""
    hashes = " ".join(f"--hash=sha256:{b.sha256}" for b in built if b.path.name.endswith(".whl"))
    pinned = workdir / "pinned.txt"
    pinned.write_text(f"{requirement} {hashes}\n", encoding="utf-8")
    run(
        [
            *pip(
                python, "install", "--no-deps", "--only-binary", ":all:", "--index-url", index_url
            ),
            "--requirement",
            str(pinned),
        ],
        workdir,
    )


def host_wheel(
    python: Path, project: str, version: str, built: Sequence[Built], workdir: Path
) -> str:
    """The built wheel pip picks for the interpreter `python`, asked of the built files alone.

    No index is asked, so no lag can explain a miss: no built wheel fits this host.
    """
    wheels = sorted(b.path.name for b in built if b.path.name.endswith(".whl"))
    local = workdir / "built-wheels"
    local.mkdir()
    for file in built:
        if file.path.name.endswith(".whl"):
            shutil.copy2(file.path, local / file.path.name)
    report = workdir / "host-wheel.json"
    cmd = pip(
        python, "install", "--dry-run", "--ignore-installed", "--no-deps", "--only-binary", ":all:"
    )
    cmd += ["--no-index", "--find-links", str(local), "--report", str(report)]
    proc = subprocess.run(
        [*cmd, f"{project}=={version}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env=pip_environment(),
    )
    shutil.rmtree(local)
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 and "a different python" in output.lower():
        # requires-python excludes this interpreter: pip's own words say so.
        raise VerifyError(
            f"`pip install {project}=={version}`: " + " | ".join(output.splitlines()[-3:])
        )
    if proc.returncode != 0:
        major, minor = sys.version_info[:2]
        host = f"Python {major}.{minor} on {sysconfig.get_platform()}"
        raise VerifyError(
            f"no built wheel installs on this host ({host}); this run built: {', '.join(wheels)}. "
            f"pip installs no sdist here: a platform missing from the wheels is missing for "
            f"every user of it. Add it to the wheels job's matrix (PyPI takes no new files for a "
            f"release older than 14 days), then {BUMP}"
        )
    chosen = json.loads(report.read_text(encoding="utf-8"))["install"][0]["download_info"]["url"]
    return urllib.parse.unquote(chosen.rsplit("/", 1)[-1])


def command_path(environment: Path, name: str) -> Path:
    """Where installing into `environment` puts the console script `name`."""
    if os.name == "nt":
        return environment / "Scripts" / f"{name}.exe"
    return environment / "bin" / name


def check_command(environment: Path, name: str, version: str, workdir: Path) -> str:
    """`name --version` from `environment` exits 0 and prints `version`; returns what it printed."""
    script = command_path(environment, name)
    if not script.is_file():
        raise VerifyError(
            f"the installed wheel has no command {name} ({script} does not exist): check that "
            f"[project.scripts] in pyproject.toml names it, then {BUMP}"
        )
    printed = run([script, "--version"], workdir).strip()
    if version not in printed.split():
        raise VerifyError(f"`{name} --version` printed {printed!r}, not the version {version}")
    return printed


def run_tests(python: Path, tests: Path, workdir: Path, log: Callable[[str], object]) -> None:
    """The project's tests, copied into `workdir`, against the installed wheel (no source tree)."""
    copy = workdir / "project-tests"
    shutil.copytree(tests, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    cmd = [str(python), "-I", "-m", "pytest", "-p", "no:cacheprovider"]
    proc = subprocess.run(
        cmd, cwd=copy, capture_output=True, text=True, check=False, env=pip_environment()
    )
    log(proc.stdout.rstrip())
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        raise VerifyError(
            f"the tests in {tests} failed against the wheel installed from the index (pytest "
            f"exited {proc.returncode}): {' | '.join(lines[-3:])}"
        )


def verify(
    args: argparse.Namespace,
    *,
    sleep: Callable[[float], object] = time.sleep,
    log: Callable[[str], object] = print,
) -> None:
    if importlib.util.find_spec("pip") is None:
        # Every install below is this interpreter's pip: say so before any index is asked.
        raise VerifyError(
            f"pip is not installed for {sys.executable} (an environment made by uv has none): "
            "run `uv run .github/scripts/verify_upload.py ...`, which installs it for the script"
        )
    built = built_files(args.dist, args.project, args.version)
    identity = (
        Identity(args.repository, args.workflow, args.environment) if args.repository else None
    )
    requirement = f"{args.project}=={args.version}"
    with tempfile.TemporaryDirectory(prefix="verify-") as tmp:
        # Everything runs from an empty folder: `import` must find the installed copy, nothing else.
        workdir = Path(tmp)
        python = make_environment(workdir / "venv")
        chosen = host_wheel(python, args.project, args.version, built, workdir)

        def attempt() -> None:
            entries = compare(built, served_files(args.index_url, args.project), args.index_url)
            log(f"{args.index_url} serves exactly the {len(built)} built files (sha256)")
            if identity:
                for file, entry in zip(built, entries, strict=True):
                    check_provenance(file, entry, identity, offline=args.sigstore_offline)
                log(
                    f"provenance: every file was published by {identity.repository} "
                    f"{identity.workflow} in environment {identity.environment}"
                )
            install_wheel(python, args.index_url, requirement, built, workdir)

        log(f"verifying {requirement} on {args.index_url} (at most {args.attempts} attempts)")
        delays = backoff_delays(args.attempts, args.initial_delay, args.max_delay)
        retry(attempt, delays, sleep=sleep, log=log)
        log(f"this host installs {chosen}")
        with_extras = f"{args.project}[{args.extra}]=={args.version}" if args.extra else requirement
        log(f"installing the dependencies of {with_extras} from {args.deps_index_url}")
        run(pip(python, "install", "--index-url", args.deps_index_url, with_extras), workdir)
        run(pip(python, "check"), workdir)
        log(
            "installed: "
            + " ".join(sorted(run(pip(python, "list", "--format", "freeze"), workdir).split()))
        )
        probe = f"import importlib.metadata as m; print(m.version({args.project!r}))"
        installed = run([python, "-I", "-c", probe], workdir).strip()
        if installed != args.version:
            raise VerifyError(
                f"installed {args.project} is {installed!r}, expected {args.version!r}"
            )
        if args.import_name:
            run([python, "-I", "-c", f"import {args.import_name}"], workdir)
            log(f"import {args.import_name}: OK")
        if args.command:
            printed = check_command(workdir / "venv", args.command, args.version, workdir)
            log(f"{args.command} --version: {printed}")
        if args.tests:
            if args.test_requirements:
                log(f"installing {' '.join(args.test_requirements)} from {args.deps_index_url}")
                requirements = args.test_requirements
                run(
                    pip(python, "install", "--index-url", args.deps_index_url, *requirements),
                    workdir,
                )
            run_tests(python, args.tests, workdir, log)
            log(f"the tests in {args.tests}: OK")
    log(f"{with_extras} verified on {args.index_url}: OK")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-url", required=True, help="index the files were uploaded to")
    parser.add_argument(
        "--deps-index-url", default=PYPI_SIMPLE, help="index serving the dependencies"
    )
    parser.add_argument("--project", required=True, help="distribution name")
    parser.add_argument("--version", required=True, help="exact version released")
    parser.add_argument("--dist", type=Path, required=True, help="folder of the uploaded files")
    parser.add_argument(
        "--import", dest="import_name", help="module to import afterwards (omit for a meta-package)"
    )
    parser.add_argument("--command", help="command the wheel installs, run with --version")
    parser.add_argument("--extra", help="extra to install with the dependencies, e.g. all")
    parser.add_argument(
        "--tests", type=Path, help="folder whose pytest run must pass against the installed wheel"
    )
    parser.add_argument(
        "--test-requirement",
        dest="test_requirements",
        action="append",
        default=[],
        help="what the tests need, from --deps-index-url (repeat it)",
    )
    parser.add_argument("--repository", help="check provenance: GitHub OWNER/REPO that published")
    parser.add_argument("--workflow", default="publish.yml", help="workflow file that published")
    parser.add_argument("--environment", help="GitHub environment of the publishing job")
    parser.add_argument(
        "--sigstore-offline",
        action="store_true",
        help="verify with sigstore's embedded trust root, without refreshing it",
    )
    parser.add_argument("--attempts", type=int, default=8)
    parser.add_argument(
        "--initial-delay", type=float, default=10.0, help="seconds before the second attempt"
    )
    parser.add_argument(
        "--max-delay", type=float, default=120.0, help="longest wait between two attempts"
    )
    args = parser.parse_args(argv)
    if args.version.startswith("v"):
        parser.error(f"--version {args.version!r}: pass the version, not the tag")
    if args.repository and not args.environment:
        parser.error("--repository needs --environment: the publishing job's environment")
    return args


def main(
    argv: Sequence[str] | None = None,
    *,
    sleep: Callable[[float], object] = time.sleep,
    log: Callable[[str], object] = print,
) -> int:
    args = parse_args(argv)
    try:
        verify(args, sleep=sleep, log=log)
    except (VerifyError, ValueError) as exc:
        prefix = (
            "::error title=Verify upload::"
            if os.environ.get("GITHUB_ACTIONS") == "true"
            else "error: "
        )
        print(f"{prefix}{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
