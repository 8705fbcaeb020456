"""Rehearsal: the manual release path of a generated project, end to end against a real index.

Two real package indexes (pypiserver, upload authentication, no overwrite, no fallback to PyPI)
run on 127.0.0.1, one standing for TestPyPI and one for PyPI. For a library and a meta-package:
the project's release check passes, an upload with a wrong password is refused and stores nothing,
RELEASING.md's upload and verify commands run as printed on a machine set up as it says (git and
uv, inside a virtual environment uv made) with a `.pypirc` written from the project's
`.pypirc.example`, pip installs the release (and the meta-package's extras) from the index only,
and a second upload of the same version is refused. The release check also fails clearly on a
broken README and on a `~/.pypirc` that others can read.
"""

from __future__ import annotations

import configparser
import contextlib
import importlib.metadata
import importlib.util
import os
import re
import secrets
import shutil
import subprocess
import tomllib
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from markdown_it import MarkdownIt
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.version import Version

from scenarios import FASTEST_BACKEND, REHEARSAL_CASES, REHEARSAL_EXTRAS, REHEARSAL_STAND_INS
from support.builds import build_dists, read_author
from support.config import TEMPLATE_ROOT
from support.envs import cache_dirs, install_into, make_venv
from support.index import free_port, wait_for
from support.proc import PYTHON, git, import_script, run, tool
from support.render import load_answers, render_once, render_project

STEPS = ["credentials", "clean", "build", "version", "twine check", "wheel contents", "install"]
STEP_LINE = re.compile(r"^(PASS|FAIL)  (\S+(?: \S+)?)\s", re.MULTILINE)
# PEP 723's reference regular expression for `# /// script` blocks.
SCRIPT_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")
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
def tool_env(home: Path) -> dict[str, str]:
    """A temporary HOME, the test venv's tools first on PATH, no keyring, no colour, wide lines."""
    return {
        **os.environ,
        "HOME": str(home),
        "PATH": os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", "")]),
        **cache_dirs(),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "NO_COLOR": "1",
        "COLUMNS": "300",
    }


def release_check(
    project: Path, home: Path, *, documented: bool = False, index: Index | None = None
) -> subprocess.CompletedProcess[str]:
    """The release check as a user runs it; the caller checks the exit code.

    `python scripts/release_check.py` with the test venv's tools, or with `documented` the command
    the docs give, `uv run scripts/release_check.py` (uv installs the script's PEP 723 tools).
    With `index` first among uv's indexes, the stand-ins the meta-package's extras name come from
    it (uv takes a name from the first index that has it); the build backend still from PyPI.
    """
    runner = [tool("uv"), "run"] if documented else [PYTHON]
    env = tool_env(home)
    if index:
        env |= {"UV_INDEX": index.simple}
    return subprocess.run(
        [*runner, "scripts/release_check.py"], cwd=project, env=env,
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def step_results(output: str) -> dict[str, str]:
    return {name: verdict for verdict, name in STEP_LINE.findall(output)}


def twine_upload(config: Path, files: list[Path], home: Path, repository: str = "testpypi") -> subprocess.CompletedProcess[str]:
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


def load_script(project: Path) -> ModuleType:
    """The generated release check as a module (its main() is guarded), to call its functions."""
    path = project / "scripts" / "release_check.py"
    return import_script(path, f"release_check_{project.name.replace('-', '_')}")


def installed_metadata(python: Path, name: str) -> Metadata:
    proc = run([python, "-c", f"import importlib.metadata as m; print(m.distribution({name!r}).read_text('METADATA'))"])
    return Metadata.from_email(proc.stdout, validate=True)


def installed_names(python: Path) -> list[str]:
    return run([tool("uv"), "pip", "list", "--python", python, "--format", "freeze"]).stdout.split()


def build_stand_in(root: Path, name: str, version: str) -> Path:
    """A tiny importable distribution: a wheel is all the index needs (flit-core's shared build environment)."""
    module = name.replace("-", "_")
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text(f'"""Stand-in for {name}."""\n', encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.12,<4"]\nbuild-backend = "flit_core.buildapi"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "Stand-in for the rehearsal"\n',
        encoding="utf-8",
    )
    return build_dists(root).wheel


# --- RELEASING.md's commands as printed, on a machine set up as it says ------------------------
def console_blocks(markdown: str) -> list[str]:
    """The console fences of a Markdown text, in order, as a reader copies them (list indentation removed)."""
    return [t.content for t in MarkdownIt("commonmark").parse(markdown) if t.type == "fence" and t.info.strip() == "console"]


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


def follow_releasing(project: Path, answers: dict[str, Any], printed: list[str], index: Index, pypi: Index, tmp_path: Path) -> None:
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
    for block in [*blocks, *console_blocks(releasing_section(project, "## Verifying"))]:
        script = as_printed(block, answers["version"], index, pypi, work)
        if answers["project_kind"] == "meta-package" and "verify_upload.py" in block:
            script = script.rstrip("\n") + f" --deps-index-url {pypi.simple}\n"  # its extras' stand-ins are on no real index
        proc = run_block(script, project, machine)
        assert proc.returncode == 0, f"{script}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        if upload := re.search(r"twine upload --repository (\S+) ", block):
            stored = stores[upload[1]].stored()
            assert {name: stored.get(name) for name in files} == files, proc.stdout + proc.stderr
        if "verify_upload.py" in block:
            assert f"{answers['project_name']}" in proc.stdout and proc.stdout.rstrip().endswith(": OK"), proc.stdout
    made = {"verify-testpypi", f"check-{answers['project_name']}"} if answers["use_testpypi"] else {f"check-{answers['project_name']}"}
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
    check = release_check(project, home, documented=case == "library", index=index if case == "meta" else None)
    assert_release_check_passed(check, project, answers)
    files = sorted((project / "dist").iterdir())

    before = index.stored()
    if case == "library":  # the index's refusals do not depend on what the files hold: checked once
        # 5. A wrong password is refused, and the index stores nothing (it does not hold these yet).
        wrong = twine_upload(write_pypirc(project, tmp_path / "wrong.pypirc", index, "not-" + index.password), files, home)
        assert wrong.returncode != 0 and "403 Forbidden" in wrong.stdout + wrong.stderr, wrong.stdout + wrong.stderr
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
        assert "400 Bad Request" in output and "already exists" in output, output
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


# --- 6. The release check fails clearly -------------------------------------------------------
def break_readme_with_invalid_rst(project: Path) -> None:
    (project / "README.md").unlink()
    (project / "README.rst").write_text("Title\n=====\n\nAn `unclosed interpreted text role.\n", encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace('"README.md"', '"README.rst"'), encoding="utf-8")


def drop_readme(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert 'readme = "README.md"\n' in text
    pyproject.write_text(text.replace('readme = "README.md"\n', ""), encoding="utf-8")


def fast_project(case: str, tmp_path: Path) -> Path:
    """A writable copy of the case rendered with the fastest backend, without extras (rendered once per run).

    No extras: the meta-package's install step would resolve them on PyPI (the rehearsal covers them).
    """
    data = {**REHEARSAL_CASES[case], **FASTEST_BACKEND, **({"extras": {}} if case == "meta" else {})}
    name = REHEARSAL_CASES[case]["project_name"]
    return shutil.copytree(render_once(f"rehearsal-fast-{case}", data, name=name), tmp_path / name)


@pytest.mark.slow
def test_release_check_fails_on_invalid_rst(tmp_path: Path) -> None:
    """Invalid reStructuredText fails twine's renderer even without --strict; stale builds go first."""
    project = fast_project("library", tmp_path)
    (project / "dist").mkdir()
    (project / "dist" / "stale-0.0.1.tar.gz").write_bytes(b"an old build")
    break_readme_with_invalid_rst(project)
    home = tmp_path / "home"
    home.mkdir()
    proc = release_check(project, home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert step_results(proc.stdout) == {**dict.fromkeys(STEPS, "PASS"), "twine check": "FAIL"}, proc.stdout
    assert "PASS  clean           removed dist/" in proc.stdout and "stale-0.0.1" not in proc.stdout
    assert "FAIL  twine check     twine check --strict failed" in proc.stdout
    assert "has syntax errors in markup" in proc.stdout
    assert proc.stdout.rstrip().endswith("1 of 7 steps FAILED: fix them and run the check again; upload nothing yet.")
    assert "twine upload" not in proc.stdout


@pytest.mark.slow
def test_release_check_reports_every_failure_in_one_round(tmp_path: Path) -> None:
    """A ~/.pypirc others can read and a missing readme (a warning, so this proves --strict): both FAIL,
    every other step still runs, and nothing is offered for upload."""
    project = fast_project("meta", tmp_path)
    drop_readme(project)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(project / ".pypirc.example", home / ".pypirc")
    (home / ".pypirc").chmod(0o644)
    proc = release_check(project, home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert step_results(proc.stdout) == {**dict.fromkeys(STEPS, "PASS"), "credentials": "FAIL", "twine check": "FAIL"}, proc.stdout
    assert "FAIL  credentials     upload credentials are not safe" in proc.stdout
    assert "~/.pypirc has mode 644: it holds API tokens and must be private;" in proc.stdout
    assert "fix it with `chmod 600 ~/.pypirc`" in proc.stdout
    assert "`long_description_content_type` missing" in proc.stdout
    assert proc.stdout.rstrip().endswith("2 of 7 steps FAILED: fix them and run the check again; upload nothing yet.")
    assert "twine upload" not in proc.stdout


@pytest.mark.slow
def test_install_step_without_uv_uses_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pipx run` or a plain `python` may have no uv: the wheel goes in with the running pip."""
    project = fast_project("library", tmp_path)
    build_dists(project)
    script = load_script(project)
    monkeypatch.setattr(script, "uv_binary", lambda: None)
    result = script.install()
    assert result.ok, result.details
    assert result.summary.startswith("imported rehearsal_lib from rehearsal-lib 0.1.0 installed in a throwaway")
    assert result.details[0] == "installed rehearsal-lib 0.1.0"
    # Imported from the throwaway environment, never from the project's src/.
    throwaway = r"import rehearsal_lib: .*/release-check-[^/]*/venv/.*/site-packages/rehearsal_lib/__init__\.py"
    assert re.fullmatch(throwaway, result.details[1])


# --- Fast checks of the generated files (no build, no server) ---------------------------------
@pytest.fixture(scope="module")
def rendered() -> dict[str, Path]:
    """Rendered once per run; tests that change a project copy it first."""
    return {
        "library": render_once("rehearsal-library", {}, name="demo-lib"),
        "meta": render_once("rehearsal-meta", {"project_kind": "meta-package", "extras": REHEARSAL_EXTRAS}, name="demo-meta"),
        "no-testpypi": render_once("rehearsal-no-testpypi", {"use_testpypi": False}, name="demo-direct"),
    }


@pytest.mark.parametrize(("case", "indexes"), [("library", ["pypi", "testpypi"]), ("no-testpypi", ["pypi"])])
def test_pypirc_example_is_a_twine_config_with_placeholders(rendered: dict[str, Path], case: str, indexes: list[str]) -> None:
    config = configparser.ConfigParser()
    config.read(rendered[case] / ".pypirc.example", encoding="utf-8")
    assert config["distutils"]["index-servers"].split() == indexes
    assert config.sections() == ["distutils", *indexes]
    if "testpypi" in indexes:
        assert config["testpypi"]["repository"] == "https://test.pypi.org/legacy/"
    assert "repository" not in config["pypi"]  # twine's default: https://upload.pypi.org/legacy/
    for section in indexes:
        assert config[section]["username"] == "__token__"
        password = config[section]["password"]
        # A real token is "pypi-" and a base64 macaroon ("AgE…"): never ship one that looks real.
        assert password.startswith("pypi-REPLACE-WITH-") and not re.match(r"pypi-AgE", password)


def test_gitignore_keeps_pypirc_but_not_its_example(rendered: dict[str, Path], tmp_path: Path) -> None:
    project = shutil.copytree(rendered["library"], tmp_path / "project")
    git(project, "init", "--quiet")
    assert git(project, "check-ignore", ".pypirc") == ".pypirc"
    example = subprocess.run(["git", "check-ignore", ".pypirc.example"], cwd=project, capture_output=True, check=False)
    assert example.returncode == 1, example  # 1: not ignored, so the example is committed


@pytest.mark.parametrize("case", ["library", "meta", "no-testpypi"])
def test_release_check_command_is_the_one_documented(rendered: dict[str, Path], case: str) -> None:
    project = rendered[case]
    script = load_script(project)
    (command,) = [line.strip() for line in (script.__doc__ or "").splitlines() if line.startswith("    ")]
    assert command == "uv run scripts/release_check.py"
    # README.md is the PyPI page, for users: release steps are for maintainers, in RELEASING.md.
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "release_check" not in readme and "RELEASING" not in readme
    releasing = (project / "RELEASING.md").read_text(encoding="utf-8")
    manual = releasing[releasing.index("\n## Manual release\n") :]
    assert "\n## " not in manual[1:], "Manual release must stay the last section"
    assert f"\n{command}\n" in manual
    # Every upload the script prints is in RELEASING.md, in the same order.
    commands = script.upload_commands(local_config=False)
    positions = [manual.index(f"   {c}\n") for c in commands]
    assert positions == sorted(positions)
    uses_testpypi = case != "no-testpypi"
    assert len(commands) == (2 if uses_testpypi else 1)
    assert ("--repository testpypi" in manual) is uses_testpypi
    assert "--config-file .pypirc" in manual
    local = script.upload_commands(local_config=True)
    assert local[-1] == "uvx twine upload --config-file .pypirc --repository pypi dist/*"


def test_releasing_verifies_testpypi_without_extra_index(rendered: dict[str, Path]) -> None:
    manual = (rendered["library"] / "RELEASING.md").read_text(encoding="utf-8").split("\n## Manual release\n")[1]
    pip = "/tmp/verify-testpypi/bin/python -m pip install --no-cache-dir"
    # Only the wheel from TestPyPI: building its sdist would fetch build dependencies from there.
    assert f'{pip} --no-deps --only-binary :all: --index-url https://test.pypi.org/simple/ "demo-lib==X.Y.Z"\n' in manual
    assert f'{pip} "demo-lib==X.Y.Z"\n' in manual  # then the dependencies, from PyPI
    # --extra-index-url appears only in the warning against it, never in a command.
    assert [line for line in manual.splitlines() if "--extra-index-url" in line and "pip install" in line] == []
    assert "dependency confusion" in manual
    assert "chmod 600 ~/.pypirc" in manual and "keyring set https://upload.pypi.org/legacy/ __token__" in manual


@pytest.mark.parametrize("case", ["library", "no-testpypi"])
def test_releasing_verbs_agree_with_the_indexes_named(rendered: dict[str, Path], case: str) -> None:
    """Without TestPyPI the subject is PyPI alone: "PyPI never accepts", not "PyPI never accept"."""
    text = (rendered[case] / "RELEASING.md").read_text(encoding="utf-8")
    subject, accept, refuse = ("PyPI", "accepts", "refuses") if case == "no-testpypi" else ("PyPI and TestPyPI", "accept", "refuse")
    assert f"{subject} never {accept} the same file name twice" in text
    assert f"{subject} {refuse} versions with a `+local` part" in text
    assert re.findall(r"(?<!Test)\bPyPI (?:never )?(?:accept|refuse)\b", text) == []


def test_script_tools_are_the_tested_tools(rendered: dict[str, Path]) -> None:
    """The script's `# /// script` requirements accept exactly the versions these tests run."""
    text = (rendered["library"] / "scripts" / "release_check.py").read_text(encoding="utf-8")
    (block,) = [m for m in SCRIPT_BLOCK.finditer(text) if m["type"] == "script"]
    lines = block["content"].splitlines(keepends=True)
    metadata = tomllib.loads("".join(line[2:] if line.startswith("# ") else line[1:] for line in lines))
    requirements = [Requirement(r) for r in metadata["dependencies"]]
    assert sorted(r.name for r in requirements) == ["build", "check-wheel-contents", "twine"]
    ours = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test_group = {req.name: req for req in map(Requirement, ours["dependency-groups"]["test"])}
    for requirement in requirements:
        assert requirement.specifier == test_group[requirement.name].specifier, requirement
        assert importlib.metadata.version(requirement.name) in requirement.specifier


PYPIRC_MODES = [
    pytest.param(0o600, True, id="600"),
    pytest.param(0o400, True, id="400"),
    pytest.param(0o644, False, id="644"),
    pytest.param(0o640, False, id="640"),
    pytest.param(0o604, False, id="604"),
    pytest.param(0o700, False, id="700"),
]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize(("mode", "ok"), PYPIRC_MODES)
def test_credentials_step_wants_mode_600(rendered: dict[str, Path], tmp_path: Path, mode: int, ok: bool) -> None:
    script = load_script(rendered["library"])
    (tmp_path / ".pypirc").write_text("[distutils]\nindex-servers =\n", encoding="utf-8")
    (tmp_path / ".pypirc").chmod(mode)
    result = script.check_credentials(home=tmp_path, root=rendered["library"])
    assert result.ok is ok
    if ok:
        assert result.summary == f"private: ~/.pypirc (mode {mode:o})"
    else:
        assert result.details == [
            f"~/.pypirc has mode {mode:o}: it holds API tokens and must be private; fix it with `chmod 600 ~/.pypirc`"
        ]


def test_credentials_step_without_any_pypirc_passes(rendered: dict[str, Path], tmp_path: Path) -> None:
    result = load_script(rendered["library"]).check_credentials(home=tmp_path, root=rendered["library"])
    assert result.ok and result.summary.startswith("no ~/.pypirc or ./.pypirc")


def test_credentials_step_refuses_committed_pypirc(rendered: dict[str, Path], tmp_path: Path) -> None:
    project = shutil.copytree(rendered["meta"], tmp_path / "project")
    (project / ".pypirc").write_text("[distutils]\nindex-servers =\n", encoding="utf-8")
    (project / ".pypirc").chmod(0o600)
    script = load_script(project)
    git(project, "init", "--quiet")
    assert script.check_credentials(home=tmp_path / "empty-home", root=project).ok
    git(project, "add", "--force", ".pypirc")
    result = script.check_credentials(home=tmp_path / "empty-home", root=project)
    assert not result.ok
    (problem,) = result.details
    assert problem == ".pypirc is committed to git: run `git rm --cached .pypirc`, commit, and revoke its tokens"


@pytest.mark.parametrize(
    ("declared", "built", "message"),
    [
        ("0.1.0", "0.1.0", None),
        ("0.1.0+build.7", "0.1.0+build.7", "has a local part ('+...'): PyPI and TestPyPI refuse local versions"),
        ("1.0.0-rc1", "1.0.0rc1", "is not spelled canonically: the built files, and PyPI, call it '1.0.0rc1'"),
    ],
    ids=["public", "local", "non-canonical"],
)
def test_release_check_refuses_a_version_pypi_would(
    rendered: dict[str, Path], tmp_path: Path, declared: str, built: str, message: str | None
) -> None:
    """twine check accepts `+local` and `1.0.0-rc1`; the version step (the workflows' guard) does not."""
    project = shutil.copytree(rendered["library"], tmp_path / "demo-lib")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace('version = "0.1.0"', f'version = "{declared}"'), encoding="utf-8")
    dist = project / "dist"
    dist.mkdir()
    with zipfile.ZipFile(dist / f"demo_lib-{built}-py3-none-any.whl", "w") as zf:
        zf.writestr(f"demo_lib-{built}.dist-info/METADATA", f"Metadata-Version: 2.4\nName: demo-lib\nVersion: {built}\n")
    result = load_script(project).version()
    assert result.ok is (message is None), result
    if message is None:
        assert result.summary == f"version '{built}' can be released: tag it v{built}"
    else:
        assert result.summary == "the version cannot be released"
        assert message in "\n".join(result.details), result.details
