"""Documented commands: the shell blocks of README.md and docs/ run as written.

Shell blocks that the tests run are marked in the Markdown source by an HTML comment right before
the fence (comments are invisible on the site and on GitHub):

    <!-- test: run [in=tmp|clone|project|beside|behind|projects] [tty] [slow] [creates=PATH,...]
    before: SHELL
    after: SHELL
    -->

The block runs with `bash -euo pipefail` and must exit 0, as written: git serves
`https://github.com/ORG/pypi-template.git` from a throwaway template repository with two releases
(scenarios.released_template: v1.0.0, then v1.1.0 with a fix to publish.yml and a moved pin),
through `url.<repo>.insteadOf`, so projects record the real URL and every later update goes through it.
- `in`: the folder it runs in: `tmp` (empty, the default), `clone` (a git clone of that
  repository), `project` (a project copied from it at the latest release and committed),
  `beside` (the folder holding that project as my-package/, where the copy left the reader),
  `behind` (the same at v1.0.0, so an update has something to bring), `projects` (a folder
  holding two projects at v1.0.0).
- `tty`: run in a pseudo-terminal, pressing Enter at every prompt (the interactive copy).
- `slow`: it builds or installs distributions. `creates`: paths that must exist afterwards.
- `before:` / `after:`: shell run first (a state the block starts from) and last (a check that
  must pass).
`<!-- test: file NAME -->` before a fence writes its content to NAME in the folder of every run
of that page (e.g. the organisation's data file). Every `copier copy|update|recopy|check-update`
and release-check command line in a fence must be in a run block or in `NOT_RUN`, with the reason.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pexpect
import pytest

from scenarios import released_template
from support.config import TEMPLATE_ROOT
from support.envs import cache_dirs
from support.pages import PAGES, fences, parse_marker, readme_install_lines, readme_pipx_line, shell_lines
from support.proc import PYTHON, commit_new_repo, run, setenv, tool
from support.render import load_answers, render_project
from support.sharing import shared_folder, shared_once
from support.terminal import CURSOR_QUERY, PROMPT_START
from support.urls import TEMPLATE_URL, git_config_with_urls

CONTEXTS = {"tmp", "clone", "project", "beside", "behind", "projects"}
# Command lines the tests can run: every one must be in a run block or listed in NOT_RUN.
RUNNABLE_COMMAND = re.compile(r"(^|[\s;&|(])(copier\s+(copy|update|recopy|check-update)\b|\S*release_check\.py)")
NOT_RUN = {
    **{
        f"copier update --defaults --data {answer}": (
            "docs/updating.md: run by tests/test_update_answers.py::test_answer_change_regenerates_managed_files, "
            "which reads these lines and checks every file they regenerate"
        )
        for answer in ("use_testpypi=false", "build_backend=hatchling", "license=Apache-2.0", "docs_site=sphinx")
    },
    **dict.fromkeys(
        ("copier check-update", "copier check-update --quiet", "copier check-update --output-format json"),
        "docs/updating.md: run by tests/test_update.py::test_check_update_reports_a_new_tag, "
        "which checks their output and exit codes",
    ),
    "copier copy --defaults --data version=1.0+local https://github.com/ORG/pypi-template.git refused-project": (
        "docs/questions.md: it exits 1 on purpose; run by tests/test_documented_commands.py::"
        "test_refused_answer_prints_what_questions_md_shows, which compares its last lines with the page"
    ),
    "uv run scripts/release_check.py": (
        "docs/quickstart.md, docs/manual-publishing.md: run by tests/test_rehearsal.py::"
        "test_manual_release_rehearsal[library], which also requires every step to PASS"
    ),
}
# `copier copy` lines that do not copy from TEMPLATE_URL, with the reason: they record another source.
SCRATCH_COPIES = {
    'uvx copier copy --vcs-ref HEAD "$PWD" ../my-package': (
        "README.md: a scratch project for trying a change to the template; it records the clone's "
        "absolute path, and check_template_sync.py refuses that source in the project's CI"
    ),
}
TTY_BUDGET = 240.0


@dataclass
class Run:
    where: str
    tty: bool
    slow: bool
    body: str
    before: str
    after: str
    files: tuple[tuple[str, str], ...]
    creates: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def collect_runs() -> list[Run]:
    runs: dict[tuple[Any, ...], Run] = {}
    for path in PAGES:
        page_fences = fences(path)
        files = []
        for fence in page_fences:
            if fence.marker and parse_marker(fence.marker)[0] == "file":
                (name,) = parse_marker(fence.marker)[2]
                files.append((name, fence.body))
        for fence in page_fences:
            if not fence.marker:
                continue
            kind, options, flags, hooks = parse_marker(fence.marker)
            if kind == "file":
                continue
            where = options.pop("in", "tmp")
            creates = [p for p in options.pop("creates", "").split(",") if p]
            unknown = (set(options), flags - {"tty", "slow"}, {kind} - {"run"}, {where} - CONTEXTS)
            if any(unknown):
                raise ValueError(f"{fence.page}:{fence.line}: unknown test marker parts {unknown}")
            body = fence.body
            key = (where, "tty" in flags, body, hooks.get("before", ""), hooks.get("after", ""), tuple(files))
            entry = runs.setdefault(
                key,
                Run(
                    where,
                    "tty" in flags,
                    "slow" in flags,
                    body,
                    hooks.get("before", ""),
                    hooks.get("after", ""),
                    tuple(files),
                ),
            )
            entry.creates += creates
            entry.sources.append(f"{fence.page}:{fence.line}")
    return list(runs.values())


RUNS = collect_runs()


# --- Every command that a test can run is run -----------------------------------------------------
def test_runnable_commands_are_run_or_listed_with_a_reason() -> None:
    lines = shell_lines()
    unrun = {(where, line) for where, line, runs in lines if RUNNABLE_COMMAND.search(line) and not runs}
    assert {line for _, line in unrun} - set(NOT_RUN) == set(), sorted(unrun)
    # The list holds nothing the pages no longer say, or now run.
    assert set(NOT_RUN) <= {line for _, line, runs in lines if not runs}


def test_command_pattern_is_live() -> None:
    for line in ["copier copy --defaults . x", "(cd x && copier update --defaults)", "uv run scripts/release_check.py"]:
        assert RUNNABLE_COMMAND.search(line), line
    assert not RUNNABLE_COMMAND.search("gh release create v1 --verify-tag")


def test_documented_copies_record_a_source_every_updater_can_use() -> None:
    """Every `copier copy` in README.md and docs/ copies from the URL copier and Renovate both resolve.

    test_documented_command_runs then checks the `_src_path` each run records.
    """
    copies = [(where, line) for where, line, _ in shell_lines() if re.search(r"(^|\s)copier\s+copy\s", line)]
    assert len(copies) >= 5, copies
    for where, line in copies:
        source = shlex.split(line)[-2]  # `copier copy [options] SOURCE DESTINATION`
        if line in SCRATCH_COPIES:
            assert source == "$PWD", (where, line)  # absolute: never `.`, which no update resolves
        else:
            assert source == TEMPLATE_URL, (where, line)
    assert set(SCRATCH_COPIES) <= {line for _, line in copies}


@pytest.mark.usefixtures("template_url")
def test_refused_answer_prints_what_questions_md_shows(tmp_path: Path) -> None:
    """The command on the page, as a user runs it: exit 1, nothing written, the page's lines last."""
    (line,) = [line for line in NOT_RUN if line.startswith("copier copy --defaults --data version=1.0+local")]
    (shown,) = [f.body for f in fences(TEMPLATE_ROOT / "docs" / "questions.md")
                if f.lang == "text" and "version=" not in f.body
                and f.body.startswith("ValueError: Validation error for question 'version'")]  # fmt: skip
    proc = subprocess.run(
        [tool("copier"), *shlex.split(line)[1:]], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[-3:] == shown.splitlines()
    assert proc.stderr.count("\n") > 30  # the traceback the page warns of
    assert not (tmp_path / "refused-project").exists()


@pytest.fixture(scope="module")
def template_url(run_gitconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """TEMPLATE_URL, served by git from the template released twice (scenarios.released_template) for
    this module's runs and seeds; they only read it (clone it, copy and update from it)."""
    folder = tmp_path_factory.mktemp("docs-git")
    config = git_config_with_urls(folder / "gitconfig", {TEMPLATE_URL: released_template()}, base=run_gitconfig)
    with pytest.MonkeyPatch.context() as mp:
        setenv(mp, "GIT_CONFIG_GLOBAL", str(config))
        setenv(mp, "COPIER_CACHE_DIR", str(folder / "copier-cache"))  # copier's mirror of that URL
        yield TEMPLATE_URL


def make_project(dst: Path, template_url: str, release: str) -> Path:
    return commit_new_repo(render_project(dst, src=template_url, vcs_ref=release), "New project from pypi-template")


class Seeds:
    """Each context's starting folder, made on first use once per run, then copied per run."""

    def __init__(self, root: Path, template_url: str) -> None:
        self.root, self.template_url = root, template_url

    def make(self, seed: Path) -> None:
        if seed.name == "project":
            make_project(seed, self.template_url, "v1.1.0")
        elif seed.name == "behind":
            make_project(seed, self.template_url, "v1.0.0")
        else:  # projects
            for name in ("acme-client", "acme-worker"):
                make_project(seed / name, self.template_url, "v1.0.0")

    def get(self, where: str) -> Path:
        return shared_once(self.root / where, self.make)


@pytest.fixture(scope="module")
def seeds(template_url: str) -> Seeds:
    return Seeds(shared_folder() / "docs" / "seeds", template_url)


def context_folder(where: str, tmp_path: Path, seeds: Seeds) -> Path:
    if where == "tmp":
        cwd = tmp_path / "work"
        cwd.mkdir()
    elif where == "beside":
        cwd = tmp_path / "work"
        shutil.copytree(seeds.get("project"), cwd / "my-package", symlinks=True)
    elif where == "clone":
        cwd = tmp_path / "pypi-template"
        run(["git", "clone", "--quiet", released_template(), cwd])
    else:
        cwd = shutil.copytree(
            seeds.get(where), tmp_path / ("repos" if where == "projects" else "my-package"), symlinks=True
        )
    return cwd


def shell_env(home: Path) -> dict[str, str]:
    """The test tools first on PATH, a private HOME (no ~/.pypirc), no pytest or venv variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "VIRTUAL_ENV"}
    env.update(cache_dirs())  # HOME is swapped for each run: keep uv's and pip's caches
    env.update(HOME=str(home), PATH=os.pathsep.join([str(Path(PYTHON).parent), env.get("PATH", "")]))
    # A terminal type for the interactive runs (CI may have none); no colours in captured output.
    env.update(TERM="xterm", NO_COLOR="1")
    return env


def run_in_terminal(script: str, cwd: Path, env: dict[str, str]) -> None:
    """Run `script` in a pseudo-terminal, pressing Enter (keep the default) whenever it waits."""
    log = io.StringIO()
    child = pexpect.spawn(
        "bash", ["-euo", "pipefail", "-c", script], cwd=str(cwd), env=env,
        dimensions=(50, 200), encoding="utf-8", codec_errors="replace",
    )  # fmt: skip
    child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default; we send on cue
    child.logfile_read = log
    deadline = time.monotonic() + TTY_BUDGET
    try:
        while (
            event := child.expect(
                [pexpect.EOF, re.escape(CURSOR_QUERY), re.escape(PROMPT_START), pexpect.TIMEOUT], timeout=5
            )
        ) != 0:
            assert time.monotonic() < deadline, f"still running after {TTY_BUDGET:.0f} s:\n{log.getvalue()}"
            # Answer the cursor position query as a terminal does (else each prompt waits for it).
            child.send("\x1b[1;1R" if event == 1 else "\r")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, f"exited {child.exitstatus} (signal {child.signalstatus}):\n{log.getvalue()}"


def bash(script: str, cwd: Path, env: dict[str, str]) -> None:
    run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    "spec",
    # Every run is slow: each starts copier, git or uv from a shell, often in a pseudo-terminal.
    [pytest.param(r, marks=[pytest.mark.slow], id=r.sources[0]) for r in RUNS],
)
def test_documented_command_runs(spec: Run, tmp_path: Path, seeds: Seeds) -> None:
    cwd = context_folder(spec.where, tmp_path, seeds)
    for name, content in spec.files:
        (cwd / name).write_text(content, encoding="utf-8")
    env = shell_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    if spec.before:
        bash(spec.before, cwd, env)
    if spec.tty:
        run_in_terminal(spec.body, cwd, env)
    else:
        bash(spec.body, cwd, env)
    for path in spec.creates:
        assert (cwd / path).exists(), f"{path} missing after:\n{spec.body}"
    if spec.after:
        bash(spec.after, cwd, env)
    # Every project the pages make or update records a source every updater can use.
    scratch = any(line.strip() in SCRATCH_COPIES for line in spec.body.splitlines())
    sources = recorded_sources(tmp_path)
    assert sources <= {str(cwd) if scratch else TEMPLATE_URL}, (sources, spec.body)
    assert sources or "copier copy" not in spec.body, spec.body


def recorded_sources(root: Path) -> set[str]:
    """The `_src_path` of every answers file below `root`, git's folders aside."""
    return {
        load_answers(path.parent)["_src_path"]
        for path in root.rglob(".copier-answers.yml")
        if ".git" not in path.relative_to(root).parts
    }


def test_runners_fail_on_a_failing_command(tmp_path: Path) -> None:
    env = shell_env(tmp_path)
    with pytest.raises(AssertionError, match="exited 3"):
        run_in_terminal(r"printf '\033[?2004h' && read -r answer && exit 3", tmp_path, env)
    with pytest.raises(AssertionError, match="exited 1"):
        bash("false; echo unreachable", tmp_path, env)


# --- README's install line, on a system Python -------------------------------------------------
def externally_managed_python(root: Path) -> Path:
    """This interpreter's installation laid out again under `root`, as a system Python is: an
    EXTERNALLY-MANAGED file (PEP 668) in its stdlib folder, where pip looks for it
    (`sysconfig.get_path("stdlib")`), and only pip in its site-packages. A virtual environment would
    not do: pip ignores the marker in one. Returns the interpreter."""
    import sys
    import sysconfig

    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (root / "bin").mkdir(parents=True)
    # A copy, not a link: the interpreter finds its prefix (and so its stdlib) from where it lies.
    python = Path(
        shutil.copy2(os.path.realpath(getattr(sys, "_base_executable", sys.executable)), root / "bin" / version)
    )
    (root / "bin" / "python3").symlink_to(version)
    for library in (Path(sys.base_prefix) / "lib").glob("libpython*"):
        (root / "lib" / library.name).parent.mkdir(parents=True, exist_ok=True)
        (root / "lib" / library.name).symlink_to(library)
    stdlib = root / "lib" / version
    (stdlib / "site-packages").mkdir(parents=True)
    for entry in Path(sysconfig.get_path("stdlib")).iterdir():
        if entry.name != "site-packages":
            (stdlib / entry.name).symlink_to(entry)
    import pip

    (stdlib / "site-packages" / "pip").symlink_to(Path(pip.__file__).parent)
    (stdlib / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=This Python belongs to the system (the test's stand-in for Debian's).\n",
        encoding="utf-8",
    )
    return python


@pytest.mark.slow
def test_readme_install_line_works_on_an_externally_managed_python(tmp_path: Path) -> None:
    """Debian's and Ubuntu's Python refuse `pip install` (PEP 668): README's line must still give a working uv."""
    system = externally_managed_python(tmp_path / "system")
    home = tmp_path / "home"
    home.mkdir()
    env = shell_env(home) | {"PATH": os.pathsep.join([str(system.parent), "/usr/bin", "/bin"])}
    refused = subprocess.run(
        ["python3", "-m", "pip", "install", "uv>=0.9"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1, refused.stderr
    assert "externally-managed-environment" in refused.stderr, refused.stderr
    # What `sudo apt install pipx` does: pipx in the system's site-packages, its command beside python3
    # (pip's --prefix skips the PEP 668 check, as a distribution's package manager does).
    run([system, "-m", "pip", "install", "--quiet", "--prefix", system.parent.parent, "pipx"], env=env, cwd=tmp_path)
    assert readme_pipx_line("Debian's") == "sudo apt install pipx"
    bash("\n".join(readme_install_lines()), tmp_path, env)
    # `uv` and `uvx` in ~/.local/bin (pipx ensurepath puts that on PATH), and they work.
    env["PATH"] = os.pathsep.join([str(home / ".local" / "bin"), env["PATH"]])
    assert shutil.which("uv", path=env["PATH"]) == str(home / ".local" / "bin" / "uv")
    version = run(["uv", "--version"], env=env, cwd=tmp_path).stdout
    assert tuple(map(int, re.match(r"uv (\d+)\.(\d+)", version).groups())) >= (0, 9), version  # type: ignore[union-attr]
    run(["uv", "venv", "--quiet", "--python", system, tmp_path / "venv"], env=env, cwd=tmp_path)
    assert run(["uvx", "--version"], env=env, cwd=tmp_path).stdout.startswith("uvx ")
