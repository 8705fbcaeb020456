"""Documentation: the site builds strictly, and what README.md and docs/ say is what the template does.

The questions reference against copier.yml, the troubleshooting entries, the decisions' layout, the
release check's steps, the generated tree on the home page, and README's commands against CI's. The
commands the pages show are run by tests/test_documented_commands.py.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from datetime import date
from functools import cache
from pathlib import Path

import copier
import pytest
import yaml

from support.config import TEMPLATE_ROOT, load_copier_config, question_names, table
from support.pages import fences, readme_install_lines, readme_pipx_line, shell_lines
from support.proc import import_script, tool
from support.render import list_files, render_once, render_project, template_source


# --- The site -------------------------------------------------------------------------------------
class _MkDocsLoader(yaml.SafeLoader):
    """mkdocs.yml names Python objects (`!!python/name:`); reading the nav only needs their names."""


_MkDocsLoader.add_multi_constructor("tag:yaml.org,2002:python/name:", lambda _loader, suffix, _node: suffix)


def nav_pages() -> list[str]:
    config = yaml.load((TEMPLATE_ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_MkDocsLoader)
    return [page for entry in config["nav"] for page in entry.values()]


def build_site(config_dir: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("mkdocs"), "build", "--strict", "--site-dir", str(site)],
        cwd=config_dir, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life banner, not a build warning
    )  # fmt: skip


def test_site_builds_strictly(tmp_path: Path) -> None:
    proc = build_site(TEMPLATE_ROOT, tmp_path / "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(nav_pages()) == sorted(p.name for p in (TEMPLATE_ROOT / "docs").glob("*.md"))
    for page in nav_pages():
        html = tmp_path / "site" / ("index.html" if page == "index.md" else f"{page.removesuffix('.md')}/index.html")
        assert html.is_file(), page
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    # The pipeline is a diagram (superfences' mermaid fence), not highlighted code.
    assert '<pre class="mermaid"><code>flowchart LR' in index
    assert "language-mermaid" not in index


def test_strict_build_fails_on_a_broken_anchor(tmp_path: Path) -> None:
    shutil.copy(TEMPLATE_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(TEMPLATE_ROOT / "docs", tmp_path / "docs")
    page = tmp_path / "docs" / "quickstart.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nSee [the rules](questions.md#no-such-question).\n", encoding="utf-8"
    )
    proc = build_site(tmp_path, tmp_path / "site")
    assert proc.returncode != 0
    assert "no-such-question" in proc.stdout + proc.stderr


# --- Questions reference --------------------------------------------------------------------------
@cache
def question_sections() -> dict[str, str]:
    text = (TEMPLATE_ROOT / "docs" / "questions.md").read_text(encoding="utf-8")
    parts = re.split(r"^## `([a-z_]+)`\n", text, flags=re.MULTILINE)
    return {name: body.split("\n## ", 1)[0] for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_questions_page_documents_exactly_the_questions_in_order() -> None:
    assert list(question_sections()) == question_names()


@pytest.mark.parametrize("name", question_names())
def test_question_has_meaning_default_rule_and_example(name: str) -> None:
    section = question_sections().get(name)
    assert section is not None, f"docs/questions.md has no `## \\`{name}\\`` section"
    spec = load_copier_config()[name]
    fields = dict(re.findall(r"^- \*\*(Default|Rule|Example):\*\* (.+(?:\n  .+)*)", section, flags=re.MULTILINE))
    assert set(fields) == {"Default", "Rule", "Example"}, section
    assert section.split("\n- **", 1)[0].strip(), "no meaning paragraph"
    default = spec.get("default")
    if isinstance(default, str) and "{{" not in default and default:
        assert f"`{default}`" in fields["Default"]
    elif isinstance(default, bool):
        assert f"`{str(default).lower()}`" in fields["Default"]
    choices = spec.get("choices")
    if isinstance(choices, dict | list):
        values = choices.values() if isinstance(choices, dict) else choices
        # A choice with its own validator (version_source's git-tag) is a mapping holding its value.
        values = [value["value"] if isinstance(value, dict) else value for value in values]
        assert all(f"`{value}`" in section for value in values), section
    elif choices:  # a templated list, computed from one of copier.yml's tables
        (source,) = [name for name in ("python_versions", "licenses", "backends") if name in choices]
        assert all(f"`{value}`" in section for value in table(source)), section
    assert re.search(rf"--data [\"']?{name}=", fields["Example"]), fields["Example"]


def test_backend_table_matches_copier_yml() -> None:
    rows = dict(
        re.findall(r"^\| `([a-z-]+)` \| `([^`]+)` \|$", question_sections()["build_backend"], flags=re.MULTILINE)
    )
    assert rows == {name: spec["requires"] for name, spec in table("backends").items()}


def test_version_source_table_matches_copier_yml() -> None:
    """The backends that offer git-tag are the ones with a version_plugin in includes/tables/backends.yml."""
    section = question_sections()["version_source"]
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (yes|no) \|", section, flags=re.MULTILINE))
    assert rows == {name: "no" if spec["version_plugin"] is None else "yes" for name, spec in table("backends").items()}
    for spec in table("backends").values():
        assert all(f"`{requirement}`" in section for requirement in spec["version_plugin"] or [])


# --- Troubleshooting ------------------------------------------------------------------------------
# Section 12 of the reference procedure, then the failures the research notes list.
FAILURES = [
    "File already exists", "The description failed to render", "No matching distribution found",
    "Token request failed", "This package name is not available", "Unexpected files in the wheel",
    "already has a publish attestation", "Reusable workflows are not supported",
    "'2.5' is not a valid metadata version", "The use of local versions", "manifest unknown",
    "Container action is only supported on Linux", "Non-user identities cannot create new projects",
]  # fmt: skip


def test_troubleshooting_has_symptom_cause_and_fix_for_each_failure() -> None:
    text = (TEMPLATE_ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    entries = dict(re.findall(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL))
    for failure in FAILURES:
        assert any(failure in title for title in entries), failure
    for title, body in entries.items():
        assert re.findall(r"^\*\*(Symptom|Cause|Fix):\*\*", body, flags=re.MULTILINE) == ["Symptom", "Cause", "Fix"], (
            title
        )


# --- Decisions ----------------------------------------------------------------------------------
# A decision goes under the topic it belongs to; a new topic is added here too, deliberately.
DECISION_TOPICS = [
    "Answers",
    "Generated files and updates",
    "The release pipeline",
    "Checkers",
    "The test suite and speed",
]
DECIDED = re.compile(r"\*Decided (\d{4}-\d\d-\d\d)(?:, revised (\d{4}-\d\d-\d\d(?:, \d{4}-\d\d-\d\d)*))?\*")


def test_decisions_are_dated_and_grouped_by_topic() -> None:
    """Each decision is a `###` section under a `##` topic, its date on the line after its heading."""
    text = (TEMPLATE_ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert [line[3:] for line in lines if line.startswith("## ")] == DECISION_TOPICS
    counts = dict.fromkeys(DECISION_TOPICS, 0)
    topic = None
    for heading, after in itertools.pairwise(lines):
        if heading.startswith("## "):
            topic = heading[3:]
        elif heading.startswith("### "):
            assert topic, f"{heading!r} is under no topic"
            dated = DECIDED.fullmatch(after)
            assert dated, f"{heading!r} has no '*Decided YYYY-MM-DD*' line after it"
            dates = [date.fromisoformat(d) for d in [dated[1], *(dated[2] or "").split(", ")] if d]
            assert dates == sorted(set(dates)), f"{heading!r}: dates out of order"
            counts[topic] += 1
        assert not heading.startswith("####"), f"{heading!r}: decisions have two heading levels"
    assert all(counts.values()), counts
    contents = re.findall(r"^- \[([^\]]+)\]\(#[a-z-]+\)", text.split("\n## ", 1)[0], flags=re.MULTILINE)
    assert contents == DECISION_TOPICS, "the contents list at the top links the topics in order"


# --- Manual publishing -----------------------------------------------------------------------------
NUMBER_WORDS = {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def test_manual_publishing_lists_the_release_check_steps(tmp_path: Path) -> None:
    """The page's count and table of steps are the generated script's STEPS, in order."""
    project = render_project(tmp_path / "my-package")
    script = import_script(project / "scripts" / "release_check.py", "release_check_for_docs")
    steps = [name for name, _, _ in script.STEPS]
    page = (TEMPLATE_ROOT / "docs" / "manual-publishing.md").read_text(encoding="utf-8")
    section = page.split("\n## The local release check\n", 1)[1].split("\n## ", 1)[0]
    (count,) = re.findall(r"It runs (\w+) steps", section)
    assert NUMBER_WORDS[count] == len(steps)
    assert re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE) == steps


# --- Contributing ------------------------------------------------------------------------------
def test_contributing_names_only_tests_and_paths_that_exist() -> None:
    """The guide's recipes point at the tests that catch a forgotten step, and at real files."""
    page = (TEMPLATE_ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", page))
    defined = set(
        re.findall(
            r"^def (test_\w+)",
            "".join(p.read_text(encoding="utf-8") for p in (TEMPLATE_ROOT / "tests").glob("test_*.py")),
            flags=re.MULTILINE,
        )
    )
    assert len(named) >= 8, sorted(named - defined)
    assert named <= defined, sorted(named - defined)
    paths = set(re.findall(r"`((?:copier\.yml|includes|template|tests|bench|fleet|docs)(?:/[\w.<>-]+)*)`", page))
    assert len(paths) >= 10
    for path in paths:
        if "<" not in path:
            assert (TEMPLATE_ROOT / path).exists(), path


# --- Home: the generated tree ---------------------------------------------------------------------
def index_tree() -> list[str]:
    """Paths under `my-package/` listed in the tree of docs/index.md (folders end with `/`)."""
    (tree,) = [f.body for f in fences(TEMPLATE_ROOT / "docs" / "index.md") if f.lang == "text"]
    root, *lines = tree.splitlines()
    assert root == "my-package/"
    stack: list[str] = []
    paths = []
    for line in lines:
        match = re.match(r"^((?:│   |    )*)(?:├── |└── )(\S+)", line)
        assert match, line
        depth = len(match.group(1)) // 4
        stack[depth:] = [match.group(2)]
        paths.append("".join(stack))
    return paths


def test_quickstart_says_what_pretend_prints(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """quickstart.md's `--pretend` bullet against copier's own output: every file listed, none written."""
    quickstart = (TEMPLATE_ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    bullet = re.search(r"^- `--pretend` .*?(?=^- |^$)", quickstart, re.MULTILINE | re.DOTALL)
    assert bullet, "quickstart.md has no --pretend bullet"
    claimed = re.findall(r"`create +([^`]+?)`", bullet.group())
    dst = tmp_path / "demo-pkg"
    copier.run_copy(str(template_source()), dst, defaults=True, pretend=True, unsafe=False)
    output = re.sub(r"\x1b\[[0-9;]*m", "", capfd.readouterr().err)  # copier colours its action words
    listed = re.findall(r"^ +create  (\S+)$", output, re.MULTILINE)
    assert not dst.exists()
    assert claimed
    assert set(claimed) <= set(listed)
    assert set(listed) == list_files(render_once("build-defaults", {}))  # the render matrix's defaults, shared


def test_index_tree_is_a_default_render(tmp_path: Path) -> None:
    listed = index_tree()
    project = render_project(tmp_path / "my-package")
    for path in listed:
        assert (project / path).is_dir() if path.endswith("/") else (project / path).is_file(), path
    # A folder shown without its content stands for all of it; every other file must be listed.
    collapsed = [p for p in listed if p.endswith("/") and not any(q != p and q.startswith(p) for q in listed)]
    missing = {f for f in list_files(project) if f not in listed and not any(f.startswith(c) for c in collapsed)}
    assert not missing, f"docs/index.md does not show {sorted(missing)}"


def test_index_tree_meta_package_has_no_code(tmp_path: Path) -> None:
    project = render_project(tmp_path / "my-package", {"project_kind": "meta-package", "extras": {}})
    for path in index_tree():
        exists = (project / path).exists()
        assert exists != path.startswith("src/"), path


# --- README -----------------------------------------------------------------------------------------
def test_readme_commands_are_the_ones_ci_runs() -> None:
    """CI on a fresh machine with only Python gets pipx as README says for a Python of one's own,
    runs README's install line verbatim, then its test command."""
    readme = [line for where, line, _ in shell_lines() if where.startswith("README.md:")]
    ci = [
        line
        for line in (TEMPLATE_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    commands = [line for line in ci if line.startswith(("python3 -m pip", "pipx", "uv run"))]
    assert readme_install_lines() == ['pipx install "uv>=0.9"']
    assert commands == [readme_pipx_line("your own"), *readme_install_lines(), "uv run --group test pytest"]
    assert set(commands[1:]) <= set(readme)
    # The first render needs no copier installed: uvx runs it.
    assert any(line.startswith("uvx copier copy https://") for line in readme), readme
