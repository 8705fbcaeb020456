"""Rehearsal: the manual release path of a generated project, end to end against a real index.

Two real package indexes (pypiserver, upload authentication, no overwrite, no fallback to PyPI)
run on 127.0.0.1, one standing for TestPyPI and one for PyPI. For a library and a meta-package:
the project's release check passes, an upload with a wrong password is refused and stores nothing,
RELEASING.md's upload and verify commands run as printed on a machine set up as it says (git and
uv, inside a virtual environment uv made) with a `.pypirc` written from the project's
`.pypirc.example`, pip installs the release (and the meta-package's extras) from the index only,
and a second upload of the same version is refused. How the release check itself fails, and
what it checks without an index, is tests/test_release_check.py.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import secrets
import subprocess
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.metadata import Metadata
from packaging.version import Version

from scenarios import REHEARSAL_CASES, REHEARSAL_EXTRAS, REHEARSAL_STAND_INS
from support.builds import build_stand_in, read_author
from support.envs import install_into, make_venv
from support.index import free_port, wait_for
from support.pages import console_blocks
from support.proc import PYTHON, run, tool
from support.release_check import STEPS, load_script, release_check, step_results, tool_env
from support.render import load_answers, render_project

USER = "rehearsal"


# --- A real index on 127.0.0.1 ----------------------------------------------------------------
@dataclass(frozen=True)
class Index:
    url: str
    packages: Path
    password: str

    @property
    def simple(self) -> str:
        return f"{self.url}simple/"

    def stored(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.packages.iterdir())}

    def page(self, project: str) -> str:
        with urllib.request.urlopen(f"{self.simple}{project}/", timeout=10) as response:
            return response.read().decode()


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_index(root: Path) -> Iterator[Index]:
    """pypiserver: uploads need the password, files are never overwritten, no redirect to PyPI."""
    packages = root / "packages"
    packages.mkdir()
    password = secrets.token_urlsafe(16)
    with warnings.catch_warnings():
        # passlib 1.7.4 imports the stdlib `crypt` module, deprecated since Python 3.11.
        warnings.simplefilter("ignore", DeprecationWarning)
        from passlib.apache import HtpasswdFile
    htpasswd = HtpasswdFile(str(root / "htpasswd"), new=True)
    htpasswd.set_password(USER, password)
    htpasswd.save()
    port = free_port()
    log = root / "server.log"
    cmd = [
        PYTHON, "-m", "pypiserver", "run", "--host", "127.0.0.1", "--port", str(port),
        "--authenticate", "update", "--passwords", str(root / "htpasswd"), "--disable-fallback",
        "--verbose", str(packages),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(proc, f"http://127.0.0.1:{port}/health", log=log)
        yield Index(url=f"http://127.0.0.1:{port}/", packages=packages, password=password)
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The index the manual release's `testpypi` section uploads to."""
    with running_index(tmp_path_factory.mktemp("index")) as served:
        yield served


@pytest.fixture(scope="module")
def pypi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The index standing for PyPI: the `pypi` section, and where pip takes dependencies from."""
    with running_index(tmp_path_factory.mktemp("pypi")) as served:
        yield served


# --- Running the generated project's tools ----------------------------------------------------
def twine_upload(
    config: Path, files: list[Path], home: Path, repository: str = "testpypi"
) -> subprocess.CompletedProcess[str]:
    """The documented upload, `--verbose` so the server's refusal message is shown."""
    return subprocess.run(
        [tool("twine"), "--no-color", "upload", "--repository", repository, "--config-file", str(config),
         "--non-interactive", "--disable-progress-bar", "--verbose", *map(str, files)],
        env=tool_env(home), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def write_pypirc(project: Path, path: Path, index: Index, password: str, pypi: Index | None = None) -> Path:
    """The project's `.pypirc.example`, its testpypi section (and its pypi section) pointed at local indexes."""
    config = configparser.ConfigParser()
    config.read(project / ".pypirc.example", encoding="utf-8")
    config["testpypi"]["repository"] = index.url
    config["testpypi"]["username"] = USER
    config["testpypi"]["password"] = password
    if pypi:
        config["pypi"]["repository"] = pypi.url
        config["pypi"]["username"] = USER
        config["pypi"]["password"] = pypi.password
    with path.open("w", encoding="utf-8") as out:
        config.write(out)
    path.chmod(0o600)
    return path


def installed_metadata(python: Path, name: str) -> Metadata:
    proc = run([python, "-c", f"import importlib.metadata as m; print(m.distribution({name!r}).read_text('METADATA'))"])
    return Metadata.from_email(proc.stdout, validate=True)


def installed_names(python: Path) -> list[str]:
    return run([tool("uv"), "pip", "list", "--python", python, "--format", "freeze"]).stdout.split()


# --- RELEASING.md's commands as printed, on a machine set up as it says ------------------------
def releasing_section(project: Path, heading: str) -> str:
    """A section of the project's RELEASING.md (`## X` or `### X`), up to the next `## `."""
    text = (project / "RELEASING.md").read_text(encoding="utf-8")
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def printed_uploads(output: str) -> list[str]:
    """The upload commands a passing release check ends with."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("All ") and "Upload next" in line) + 1
    return [line.strip() for line in lines[start:] if line.startswith("  ")]


def uv_machine(tmp_path: Path, home: Path, pypi: Index) -> dict[str, str]:
    """The machine RELEASING.md asks for, git and uv, inside a virtual environment uv made (no pip in it).

    Nothing of the test venv is on PATH: no twine, no keyring, no python that has pip. pip's default
    index is the index standing for PyPI (pip itself comes from the real one, through uv).
    """
    tools = tmp_path / "uv-only"
    tools.mkdir()
    for name in ("uv", "uvx"):
        (tools / name).symlink_to(tool(name))
    python = make_venv(tmp_path / "dev-venv")
    env = {k: v for k, v in tool_env(home).items() if not k.startswith("PYTEST_")}
    path = os.pathsep.join([str(python.parent), str(tools), "/usr/bin", "/bin"])
    return env | {"PATH": path, "VIRTUAL_ENV": str(python.parent.parent), "PIP_INDEX_URL": pypi.simple}


def as_printed(block: str, version: str, index: Index, pypi: Index, tmp: Path) -> str:
    """A block as printed, but for what the test stands in for: the version, the two indexes, /tmp."""
    for printed, local in [("X.Y.Z", version), ("https://test.pypi.org/simple/", index.simple),
                           ("https://pypi.org/simple/", pypi.simple), ("/tmp/", f"{tmp}/")]:  # fmt: skip
        block = block.replace(printed, local)
    return block


def run_block(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def follow_releasing(
    project: Path, answers: dict[str, Any], printed: list[str], index: Index, pypi: Index, tmp_path: Path
) -> None:
    """RELEASING.md's "Upload and verify" and "Verifying" blocks, in order, as printed, on a uv machine."""
    machine = uv_machine(tmp_path, tmp_path / "home", pypi)
    blocks = console_blocks(releasing_section(project, "### Upload and verify"))
    # The uploads RELEASING.md gives are the ones the release check printed, in the same order.
    assert [b for b in blocks if "twine upload" in b] == [f"{c}\n" for c in printed]
    assert len([b for b in blocks if "verify_upload.py" in b]) == len(printed)
    files = {f.name: f.read_bytes() for f in sorted((project / "dist").iterdir())}
    stores = {"testpypi": index, "pypi": pypi}
    work = tmp_path / "tmp"
    work.mkdir()
    everything = [*blocks, *console_blocks(releasing_section(project, "## Verifying"))]
    for block in everything:
        script = as_printed(block, answers["version"], index, pypi, work)
        if answers["project_kind"] == "meta-package" and "verify_upload.py" in block:
            script = (
                script.rstrip("\n") + f" --deps-index-url {pypi.simple}\n"
            )  # its extras' stand-ins are on no real index
        proc = run_block(script, project, machine)
        assert proc.returncode == 0, f"{script}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        if upload := re.search(r"twine upload --repository (\S+) ", block):
            stored = stores[upload[1]].stored()
            assert {name: stored.get(name) for name in files} == files, proc.stdout + proc.stderr
        if "verify_upload.py" in block:
            assert f"{answers['project_name']}" in proc.stdout, proc.stdout
            assert proc.stdout.rstrip().endswith(": OK"), proc.stdout
    # A release is verified again (a retry, the next release): each environment the blocks made is
    # made again where it stands.
    again = [line for block in everything for line in block.splitlines() if line.strip().startswith("uv venv ")]
    assert len(again) == len({*again}) >= 1, again
    for line in again:
        proc = run_block(as_printed(line, answers["version"], index, pypi, work), project, machine)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}{proc.stderr}"
    made = (
        {"verify-testpypi", f"check-{answers['project_name']}"}
        if answers["use_testpypi"]
        else {f"check-{answers['project_name']}"}
    )
    assert {p.name for p in work.iterdir()} == made  # every environment the blocks make in /tmp/


# --- The rehearsal: one test per kind, steps in the order a maintainer follows ----------------
def assert_release_check_passed(proc: subprocess.CompletedProcess[str], project: Path, answers: dict[str, Any]) -> None:
    output = proc.stdout
    assert proc.returncode == 0, output + proc.stderr
    assert step_results(output) == dict.fromkeys(STEPS, "PASS"), output
    assert "PASS  credentials     private: ~/.pypirc (mode 600)" in output
    wheel = f"{answers['project_name'].replace('-', '_')}-{answers['version']}-py3-none-any.whl"
    assert f"PASS  build           {wheel.replace('-py3-none-any.whl', '.tar.gz')}, {wheel}" in output
    if answers["project_kind"] == "library":
        assert f"PASS  install         imported {answers['import_name']} from" in output
    else:
        (extras,) = re.findall(r"^      extras: (.*)$", output, re.MULTILINE)
        assert set(extras.split(", ")) == {*REHEARSAL_EXTRAS, "all"}
    # It ends with the upload commands, in order, exactly as the script and RELEASING.md give them.
    commands = load_script(project).upload_commands(local_config=False)
    assert commands == ["uvx twine upload --repository testpypi dist/*", "uvx twine upload --repository pypi dist/*"]
    assert printed_uploads(output) == commands


def assert_installed_release_matches(python: Path, answers: dict[str, Any], cwd: Path) -> None:
    name, version = answers["project_name"], answers["version"]
    meta = installed_metadata(python, name)
    assert (meta.name, meta.version, meta.summary) == (name, Version(version), answers["description"])
    assert read_author(meta) == (answers["user_name"], answers["user_email"])
    assert str(meta.requires_python) == f">={answers['python_min']}"
    assert meta.license_expression == "MIT"
    if answers["project_kind"] == "library":
        proc = run([python, "-c", f"import {answers['import_name']} as m; print(m.__version__)"], cwd=cwd)
        assert proc.stdout.strip() == version
    else:
        assert set(meta.provides_extra or []) == {*REHEARSAL_EXTRAS, "all"}
        assert [r for r in meta.requires_dist or [] if not r.marker] == []  # nothing without an extra


@pytest.mark.slow
@pytest.mark.parametrize("case", list(REHEARSAL_CASES))
def test_manual_release_rehearsal(case: str, index: Index, pypi: Index, tmp_path: Path) -> None:
    project = render_project(tmp_path / REHEARSAL_CASES[case]["project_name"], REHEARSAL_CASES[case])
    answers = load_answers(project)
    home = tmp_path / "home"
    home.mkdir()
    pypirc = write_pypirc(project, home / ".pypirc", index, index.password, pypi=pypi)

    if case == "meta":
        # Its extras name stand-ins, on both indexes before the release check installs `[all]`.
        stand_ins = [build_stand_in(tmp_path / name, name, version) for name, version in REHEARSAL_STAND_INS.items()]
        for repository in ("testpypi", "pypi"):
            stand_ins_upload = twine_upload(pypirc, stand_ins, home, repository)
            assert stand_ins_upload.returncode == 0, stand_ins_upload.stdout + stand_ins_upload.stderr

    # 1. The release check passes (with a private ~/.pypirc in place). The library runs the
    # documented `uv run` command (the docs' own runs leave it to this test), the meta-package `python`.
    check = release_check(
        project, home, documented=case == "library", uv_index=index.simple if case == "meta" else None
    )
    assert_release_check_passed(check, project, answers)
    files = sorted((project / "dist").iterdir())

    before = index.stored()
    if case == "library":  # the index's refusals do not depend on what the files hold: checked once
        # 5. A wrong password is refused, and the index stores nothing (it does not hold these yet).
        wrong = twine_upload(
            write_pypirc(project, tmp_path / "wrong.pypirc", index, "not-" + index.password), files, home
        )
        assert wrong.returncode != 0, wrong.stdout + wrong.stderr
        assert "403 Forbidden" in wrong.stdout + wrong.stderr, wrong.stdout + wrong.stderr
        assert index.stored() == before

    # 2. RELEASING.md's uploads (with the settings of `.pypirc.example`) and verifications, as printed:
    # the indexes hold exactly these files.
    pypi_before = pypi.stored()
    follow_releasing(project, answers, printed_uploads(check.stdout), index, pypi, tmp_path)
    assert index.stored() == {**before, **{f.name: f.read_bytes() for f in files}}
    assert pypi.stored() == {**pypi_before, **{f.name: f.read_bytes() for f in files}}
    assert all(f.name in index.page(answers["project_name"]) for f in files)

    # 3. A fresh environment installs `NAME==VERSION` from this index only; metadata = answers.
    python = make_venv(tmp_path / "venv")
    local_only = ("--index-url", index.simple, "--no-cache")
    install_into(python, f"{answers['project_name']}=={answers['version']}", extra_args=local_only)
    assert_installed_release_matches(python, answers, tmp_path)
    if case == "meta":
        # An extra resolves to its listed distributions on the index.
        pin = f"{answers['project_name']}[clients]=={answers['version']}"
        install_into(python, pin, extra_args=local_only)
        assert "rehearsal-client==0.3.0" in installed_names(python)
        assert not [n for n in installed_names(python) if n.startswith("rehearsal-cli==")]
        install_into(python, pin.replace("[clients]", "[all]"), extra_args=local_only)
        assert "rehearsal-cli==1.0.0" in installed_names(python)
        run([python, "-c", "import rehearsal_client, rehearsal_cli"], cwd=tmp_path)

    if case == "library":
        # 4. The same version again is refused ("File already exists" on PyPI) and nothing changes.
        stored = index.stored()
        again = twine_upload(pypirc, files, home)
        output = again.stdout + again.stderr
        assert again.returncode != 0, output
        assert "400 Bad Request" in output, output
        assert "already exists" in output, output
        assert index.stored() == stored


@pytest.mark.slow
def test_index_never_falls_back_to_pypi(index: Index) -> None:
    """By default pypiserver redirects unknown names to PyPI: "local index only" needs it off."""
    with pytest.raises(urllib.error.HTTPError) as missing:
        index.page("requests")
    missing.value.close()
    assert missing.value.code == 404


def test_index_that_fails_to_start_fails_fast_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([PYTHON, "-m", "pypiserver", "run", "--port", "no-port"], stdout=out, stderr=out)
    with pytest.raises(pytest.fail.Exception, match=r"(?s)pypiserver.* exited with 2:.*invalid int value: 'no-port'"):
        wait_for(proc, "http://127.0.0.1:9/health", log=log)


def test_index_that_never_answers_is_given_up_on(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("still starting\n", encoding="utf-8")
    proc = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(pytest.fail.Exception, match=r"(?s)did not answer within 1 s:\nstill starting"):
            wait_for(proc, f"http://127.0.0.1:{free_port()}/health", budget=1.0, log=log)
    finally:
        stop(proc)
    assert proc.returncode is not None
