"""Answers: a bad answer is refused with a clear message and nothing written; odd but valid text
round-trips exactly into TOML, YAML, Markdown and the built metadata."""

from __future__ import annotations

import re
import tempfile
import tomllib
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import copier
import jinja2.sandbox
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.myst_blocks import myst_block_plugin
from packaging.metadata import Metadata
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from readme_renderer.markdown import render as render_pypi_markdown

from scenarios import ODD_ANSWERS, VERSIONS, matrix_case_answers
from support.builds import build_once, read_author
from support.config import TEMPLATE_ROOT, kind_backends, load_copier_config, question_names
from support.proc import commit_new_repo, git, import_script
from support.refusals import assert_prompt_message, render, snapshot
from support.releases import released_questions_unknown
from support.render import load_answers, template_source
from support.validators import validator_message


@pytest.fixture(scope="module")
def template() -> Path:
    """The working tree without .git: copier reads it in place instead of cloning it per render."""
    return template_source()


def keywords_of(answer: str) -> list[str]:
    return [k.strip() for k in answer.split(",") if k.strip()]


class _FirstParagraph(HTMLParser):
    """Text of the first <p> of rendered HTML, entities decoded: what a reader sees."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.parts: list[str] = []
        self.text: str | None = None

    def handle_starttag(self, tag: str, _attrs: Any) -> None:
        self.inside = self.inside or (tag == "p" and self.text is None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self.inside:
            self.inside, self.text = False, "".join(self.parts)

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.parts.append(data)


def first_paragraph(html: str) -> str | None:
    parser = _FirstParagraph()
    parser.feed(html)
    return parser.text


def rendered_paragraphs(markdown: str) -> list[str | None]:
    """The first paragraph as PyPI (readme-renderer, GFM) and as CommonMark (markdown-it-py) show it."""
    return [
        first_paragraph(render_pypi_markdown(markdown) or ""),
        first_paragraph(MarkdownIt("commonmark").render(markdown)),
    ]


# --- Bad answers -------------------------------------------------------------------------------
META = {"project_kind": "meta-package", "build_backend": "hatchling"}
# (id, question, answer, other answers). Each message must quote the answer after the question name.
BAD: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("project_name-space", "project_name", "my package", {}),
    ("project_name-trailing-hyphen", "project_name", "acme-", {}),
    ("project_name-leading-dot", "project_name", ".acme", {}),
    ("project_name-non-ascii", "project_name", "pâquet", {}),
    ("project_name-trailing-newline", "project_name", "acme\n", {}),
    ("project_name-stdlib-typing", "project_name", "Typing", {}),
    ("project_name-stdlib-normalised", "project_name", "Py.Compile", {}),
    ("project_name-stdlib-private", "project_name", "thread", {}),
    ("import_name-uppercase", "import_name", "Acme", {}),
    ("import_name-hyphen", "import_name", "acme-tools", {}),
    ("import_name-leading-digit", "import_name", "1acme", {}),
    ("import_name-keyword", "import_name", "class", {}),
    ("import_name-stdlib-json", "import_name", "json", {}),
    ("import_name-stdlib-test", "import_name", "test", {}),
    ("import_name-stdlib-typing", "import_name", "typing", {}),
    ("import_name-removed-in-3.12", "import_name", "distutils", {}),
    ("import_name-project-folder-tests", "import_name", "tests", {}),
    ("import_name-project-folder-src", "import_name", "src", {}),
    ("import_name-project-folder-scripts", "import_name", "scripts", {}),
    ("import_name-windows-device-con", "import_name", "con", {}),
    ("import_name-windows-device-lpt1", "import_name", "lpt1", {}),
    ("extras-reserved-all", "extras", {"all": ["idna"]}, META),
    ("extras-uppercase-name", "extras", {"Clients": ["idna"]}, META),
    ("extras-double-hyphen-name", "extras", {"a--b": ["idna"]}, META),
    ("import_name-dunder-main", "import_name", "__main__", {}),
    ("import_name-pycache", "import_name", "__pycache__", {}),
    ("command_name-venv-python", "command_name", "python3.12", {}),
    ("command_name-venv-pip", "command_name", "pip", {}),
    ("repository_name-dot-git", "repository_name", "acme.GIT", {}),
    ("extras-number-name", "extras", {7: ["idna"]}, META),
    ("extras-trailing-newline", "extras", {"clients\n": ["idna"]}, META),
    ("extras-empty-list", "extras", {"clients": []}, META),
    ("extras-mapping-of-versions", "extras", {"clients": {"acme-client": ">=0.3"}}, META),
    ("extras-string-not-list", "extras", {"clients": "acme-client>=0.3"}, META),
    ("extras-url", "extras", {"clients": ["acme @ https://example.org/acme.whl"]}, META),
    ("extras-wildcard-with-range", "extras", {"clients": ["acme>=1.0.*"]}, META),
    # YAML reads U+0085 as a line break: the answers file would give the marker back changed.
    ("extras-marker-nel", "extras", {"clients": ['acme-client; platform_version == "#1\x85SMP"']}, META),
    ("extras-number", "extras", {"clients": [1.0]}, META),
    ("extras-not-a-mapping", "extras", ["acme-client"], META),
    ("description-empty", "description", "", {}),
    ("description-blank", "description", "   ", {}),
    ("description-two-lines", "description", "line one\nline two", {}),
    ("description-tab", "description", "tab\there", {}),
    ("description-line-separator", "description", "one\u2028two", {}),
    ("description-leading-space", "description", " Leading space", {}),
    ("description-trailing-space", "description", "Trailing space ", {}),
    ("description-513-characters", "description", "x" * 513, {}),
    ("version-local", "version", "1.0+local", {}),
    ("version-v-prefix", "version", "v1.0", {}),
    ("version-leading-zero", "version", "01.0", {}),
    ("version-not-pep440", "version", "latest", {}),
    ("version-empty", "version", "", {}),
    ("keywords-newline", "keywords", "acme,\ntools", {}),
    ("user_name-empty", "user_name", "", {}),
    ("user_name-newline", "user_name", "Ada\nLovelace", {}),
    ("user_name-trailing-space", "user_name", "Ada Lovelace ", {}),
    ("user_name-comma", "user_name", "Lovelace, Ada", {}),
    ("user_name-angle-brackets", "user_name", "Ada <ada@example.org>", {}),
    ("user_name-double-quotes", "user_name", 'Ada "Countess" Lovelace', {}),
    ("user_email-no-at", "user_email", "ada.example.org", {}),
    ("user_email-two-at", "user_email", "ada@@example.org", {}),
    ("user_email-no-dot-in-domain", "user_email", "ada@localhost", {}),
    ("user_email-space", "user_email", "ada lovelace@example.org", {}),
    ("user_email-display-name", "user_email", "Ada <ada@example.org>", {}),
    ("user_email-trailing-newline", "user_email", "ada@example.org\n", {}),
    ("user_email-trailing-dot", "user_email", "ada@example.org.", {}),
    ("user_email-punctuation-in-domain", "user_email", "ada@exa!mple.org", {}),
    ("user_email-non-ascii-before-at", "user_email", "zoë@example.org", {}),
    ("user_email-private-domain", "user_email", "dev@corp.local", {}),
    ("github_owner-leading-hyphen", "github_owner", "-acme", {}),
    ("github_owner-double-hyphen", "github_owner", "acme--corp", {}),
    ("github_owner-underscore", "github_owner", "acme_corp", {}),
    ("github_owner-40-characters", "github_owner", "a" * 40, {}),
    ("repository_name-slash", "repository_name", "acme/tools", {}),
    ("repository_name-dot-dot", "repository_name", "..", {}),
    ("repository_name-101-characters", "repository_name", "a" * 101, {}),
    ("repository_name-space", "repository_name", "acme tools", {}),
    ("copyright_holder-empty", "copyright_holder", "", {}),
    ("copyright_holder-newline", "copyright_holder", "Acme\nCorp", {}),
    ("copyright_year-two-digits", "copyright_year", "26", {}),
    ("copyright_year-reversed-range", "copyright_year", "2026-2024", {}),
]


# What a message quotes when it is not the answer itself (or a mapping's first key).
QUOTED = {
    "extras-url": "acme @ https://example.org/acme.whl", "extras-wildcard-with-range": "acme>=1.0.*",
    "extras-marker-nel": 'acme-client; platform_version == "#1\x85SMP"',
    "extras-number": "1.0", "extras-not-a-mapping": "['acme-client']",
}  # fmt: skip


@pytest.mark.parametrize(("case_id", "question", "answer", "extra"), BAD, ids=[case[0] for case in BAD])
def test_bad_answer_is_refused_and_nothing_written(
    template: Path, tmp_path: Path, case_id: str, question: str, answer: Any, extra: dict[str, Any]
) -> None:
    dst = tmp_path / "project"
    with pytest.raises(ValueError, match=r"^Validation error for question ") as err:
        render(template, dst, {**extra, question: answer})
    details = assert_prompt_message(str(err.value), question)
    assert details[0].startswith(f"{question} "), details
    assert f'"{QUOTED.get(case_id, answer if not isinstance(answer, dict) else next(iter(answer)))}"' in str(err.value)
    assert not dst.exists()


def test_answers_jinja_knows_every_question_and_its_type(jinja_env: jinja2.Environment) -> None:
    """The unknown-key and YAML checks read these lists: a question added to copier.yml goes in them,
    and one a release removes moves to retired_questions, or every update of a project that answered
    it fails (copier passes the recorded answer back as data: tests/test_update_refusals.py)."""
    module = jinja_env.get_template("includes/answers.jinja").module
    config = load_copier_config()
    assert list(module.questions) == question_names(), "answers.jinja: a removed question moves to retired_questions"
    assert list(module.yaml_questions) == [q for q in question_names() if config[q]["type"] == "yaml"]
    assert list(module.yes_no_questions) == [q for q in question_names() if config[q]["type"] == "bool"]
    assert {config[q]["type"] for q in question_names()} == {"str", "yaml", "bool"}
    assert not set(module.retired_questions) & set(config)
    known = {*module.questions, *module.retired_questions}
    assert released_questions_unknown(TEMPLATE_ROOT, known) == {}  # vacuous in a tagless clone: not below


def test_a_question_a_release_asked_and_answers_jinja_forgot_is_found(tmp_path: Path) -> None:
    copier_yml = tmp_path / "copier.yml"
    copier_yml.write_text(
        "_subdirectory: t\nkept: {type: str}\ncomputed: {when: false, default: x}\n", encoding="utf-8"
    )
    commit_new_repo(tmp_path, "v1.0.0")
    git(tmp_path, "tag", "v1.0.0")
    copier_yml.write_text(copier_yml.read_text(encoding="utf-8") + "dropped: {type: bool}\n", encoding="utf-8")
    git(tmp_path, "commit", "--quiet", "--all", "--message", "v1.1.0")
    git(tmp_path, "tag", "v1.1.0")
    assert released_questions_unknown(tmp_path, {"kept"}) == {"v1.1.0": {"dropped"}}
    assert released_questions_unknown(tmp_path, {"kept", "dropped"}) == {}


# What the rule accepts: the words copier reads as booleans, whole numbers 0 and 1, and booleans.
YES_NO_WORDS = [
    "true", "false", "True", "FALSE", "yes", "No", "on", "off", "y", "n", "t", "f", "1", "0", " yes ",
    True, False, 1, 0,
]  # fmt: skip
NOT_YES_NO = ["maybe", "flase", "ture", "", "none", "null", "~", "2", "-1", "yess", 2]


@pytest.mark.parametrize("raw", YES_NO_WORDS, ids=repr)
def test_yes_no_rule_accepts_boolean_words(jinja_env: jinja2.Environment, raw: Any) -> None:
    assert validator_message(jinja_env, "use_renovate", True, data={"use_renovate": raw}) == ""


@pytest.mark.parametrize("raw", NOT_YES_NO, ids=repr)
def test_yes_no_rule_refuses_other_words(jinja_env: jinja2.Environment, raw: Any) -> None:
    message = validator_message(jinja_env, "use_renovate", True, data={"use_renovate": raw})
    assert message.startswith(f'must be true or false\nuse_renovate "{raw}" is not true or false'), message


def test_refused_answer_leaves_existing_folder_as_it_was(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "existing"
    (dst / "src").mkdir(parents=True)
    (dst / "pyproject.toml").write_text('[project]\nname = "mine"\n', encoding="utf-8")
    (dst / "src" / "keep.py").write_text("KEEP = True\n", encoding="utf-8")
    before = snapshot(dst)
    with pytest.raises(ValueError, match="question 'user_email'"):
        render(template, dst, {"user_email": "not an address"})
    assert snapshot(dst) == before
    assert sorted(p.name for p in dst.iterdir()) == ["pyproject.toml", "src"]


# --- The rules, against the libraries that define them ----------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_version_rule_agrees_with_packaging(jinja_env: jinja2.Environment, version: str) -> None:
    """Accepted exactly when packaging reads a public version and writes it back unchanged."""
    try:
        parsed = Version(version)
        expected = parsed.local is None and str(parsed) == version
    except InvalidVersion:
        expected = False
    assert (validator_message(jinja_env, "version", version) == "") == expected  # BAD runs the rule through copier


def extras_message(env: jinja2.Environment, requirement: Any) -> str:
    return validator_message(env, "extras", {"clients": [requirement]})


def packaging_accepts(requirement: str) -> bool:
    """What PyPI stores: a requirement packaging parses, without a direct URL (PyPI refuses those)."""
    try:
        return Requirement(requirement).url is None
    except InvalidRequirement:
        return False


ACCEPTED_REQUIREMENTS = [
    "acme-client", "acme-client>=0.3", "acme-client>=0.3,<1", "acme[cli,extra]>=1.0", "acme ==1.0.*",
    "acme~=1.4", "Acme.Client_x!=2.0rc1", "acme<2.0.dev0", "acme>=1.0.post1", 'acme>=1; python_version >= "3.11"',
    "acme; sys_platform == 'linux' and python_version < \"3.13\"",
    'acme; platform_system != "Windows" or os_name == "nt"', 'acme; python_version in"3.11 3.12"',
    'acme; platform_version == "a|b`c"', "acme; os_name == \"it's\"", "acme; os_name not  in 'nt'",
]  # fmt: skip
REFUSED_REQUIREMENTS = [
    "acme @ https://example.org/acme.whl", "acme>=1.0.*", "acme~=1", "acme==1.0+local", "acme>=", " acme",
    "acme ", "acme>=1;", "acme[]", "-acme", "acme==1.0a1.*", "acme (>=1.0)", 'acme; (python_version >= "3.11")',
    "acme===1.0", "", 'acme; python_versionin "3.11"', 'acme; os_name == "a\\x"', 'acme; os_name == "a\nb"',
]  # fmt: skip


@pytest.mark.parametrize("requirement", ACCEPTED_REQUIREMENTS)
def test_extras_accept_the_common_requirement_forms(jinja_env: jinja2.Environment, requirement: str) -> None:
    assert packaging_accepts(requirement)
    assert extras_message(jinja_env, requirement) == ""


@pytest.mark.parametrize("requirement", REFUSED_REQUIREMENTS)
def test_extras_refuse_what_the_rule_leaves_out(jinja_env: jinja2.Environment, requirement: str) -> None:
    assert extras_message(jinja_env, requirement).startswith("requirements: name[extras] spec ; marker\n")


# Pieces that combine into requirements, valid and broken: names, extras, operators, versions, markers.
REQUIREMENT_PIECES = st.sampled_from([
    "acme", "acme-client", "a.b_c", "[x]", "[x,y]", "[ x , y ]", ">=", "<=", "==", "!=", "~=", "<", ">", "===", "1",
    "1.0", "1.0.*", "1.0a1", "0.3", "2.post1", ".dev0", "rc1", ",", " ", ";", "python_version", "sys_platform",
    '"3.11"', "'linux'", " and ", " or ", "in", "not in", "(", ")", "@", "https://x", "extra", "-", ".", "*", "v1",
    "+local", "1!2", '"a\\x"', '"a\nb"', "'it\"s'", '"|`"',
])  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(REQUIREMENT_PIECES, max_size=10).map("".join))
def test_extras_never_accept_a_requirement_packaging_refuses(jinja_env: jinja2.Environment, requirement: str) -> None:
    """A requirement the question accepts is written to pyproject.toml as given: it must parse."""
    if extras_message(jinja_env, requirement) == "":
        assert packaging_accepts(requirement), requirement


def test_surrounding_spaces_do_not_survive_core_metadata() -> None:
    """Why description and user_name refuse leading/trailing spaces: backends write them, readers drop them."""
    raw = b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nSummary:   spaced  \nAuthor:  Ada \n"
    meta = Metadata.from_email(raw, validate=True)
    assert meta.summary != "  spaced  "
    assert meta.author != " Ada "


def test_normalised_name_is_reported_after_copy(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A validator can only refuse: the accepted name's PyPI spelling is told after the copy."""
    for name in ["My.Package", "my-package"]:
        copier.run_copy(str(template), tmp_path / name, data={"project_name": name}, defaults=True, quiet=False)
        said = capfd.readouterr().err
        assert ('PyPI normalises the name "My.Package" to "my-package"' in said) == (name == "My.Package"), said


# --- Escaping, macro by macro ------------------------------------------------------------------
@pytest.fixture(scope="module")
def escape(jinja_env: jinja2.Environment) -> Any:
    return jinja_env.get_template("includes/escape.jinja").module


def test_jinja_tojson_would_break_toml_on_emoji() -> None:
    """Why the toml macro uses to_json(ensure_ascii=False): the plain JSON escape is no TOML string."""
    plain = jinja2.Environment().from_string("{{ value | tojson }}").render(value="rocket 🚀")
    assert "\\ud83d" in plain
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(f"v = {plain}")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_toml_macro_round_trips_any_text(escape: Any, text: str) -> None:
    assert tomllib.loads(f"v = {escape.toml(text)}")["v"] == text


# One line, no surrounding spaces: what the text questions accept.
LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1).filter(
    lambda s: s == s.strip()
)
MARKUP = [
    "*emphasis* _underline_ `code` [link](https://x.y) ![img](x.png)",
    "<b>bold</b> <!-- c --> &amp; &#35; &copy;",
    "~~strike~~ :rocket: :+1: [^1] [ ] task",
    "# heading",
    "> quote",
    "- item",
    "+ item",
    "1. one",
    "2) two",
    "---",
    "***",
    "___",
    "```fence",
    "~~~fence",
    "__init__ snake_case a__b 😀_x_😀",
    "back\\slash \\* C:\\Users\\ada \\",
]


@pytest.mark.parametrize("text", MARKUP)
def test_md_macro_is_read_back_as_the_text(escape: Any, text: str) -> None:
    escaped = str(escape.md(text))
    assert rendered_paragraphs(f"# t\n\n{escaped}\n") == [text, text]
    assert rendered_paragraphs(f"# t\n\n{text}\n") != [text, text]  # each case is markup when unescaped


# Text that CommonMark and GFM show as written but another reader of the same line does not: MyST
# (the docs site) reads "(label)=" as a target and drops it; check_template_sync.py, which CI runs,
# reads seven "|" as a conflict marker.
@pytest.mark.parametrize("text", ["(draft)=", "||||||| Pipes, pipes, pipes"])
def test_md_macro_writes_no_myst_target_and_no_conflict_marker(escape: Any, text: str) -> None:
    sync = import_script(TEMPLATE_ROOT / "template" / ".github" / "scripts" / "check_template_sync.py", "sync_md")
    myst = MarkdownIt("commonmark").use(myst_block_plugin)
    escaped = str(escape.md(text))
    assert rendered_paragraphs(f"# t\n\n{escaped}\n") == [text, text]
    assert first_paragraph(myst.render(f"# t\n\n{escaped}\n")) == text
    assert not sync.MARKER.match(escaped)
    assert first_paragraph(myst.render(f"# t\n\n{text}\n")) != text or sync.MARKER.match(text)  # unescaped


@pytest.mark.parametrize("text", ["PyPI.", "Fast (really) tools, 100% + 1 = 2!", "snake_case and A|B", "x & y"])
def test_md_macro_leaves_plain_punctuation_alone(escape: Any, text: str) -> None:
    assert str(escape.md(text)) == text


@settings(max_examples=300, deadline=None)
@given(LINE)
def test_md_macro_round_trips_any_line(escape: Any, text: str) -> None:
    assert rendered_paragraphs(f"# t\n\n{escape.md(text)}\n\n## next\n") == [text, text]


URL_TEXTS = [
    ("Mirror of https://example.com/~user/files_", "https://example.com/~user/files"),  # "_" ends it, as GFM has it
    ("Docs at https://example.org/_static/a*b*c.", "https://example.org/_static/a*b*c"),
    ("See (https://en.wikipedia.org/wiki/Foo_(bar)).", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ("https://example.org/a_b_ and more", "https://example.org/a_b"),
    ("Homepage: www.example.com/~user/pkg", "http://www.example.com/~user/pkg"),  # GitHub links www. too
    ("Docs: https://example.com/a_b\u00a0*fast* tool.", "https://example.com/a_b%C2%A0*fast"),  # to an ASCII space
]


@pytest.mark.parametrize(("text", "url"), URL_TEXTS, ids=[u for _, u in URL_TEXTS])
def test_md_macro_links_a_url_as_written(escape: Any, text: str, url: str) -> None:
    """GitHub links a bare URL but reads no escape in it; CommonMark (MyST) would read its * _ ~."""
    markdown = f"# t\n\n{escape.md(text)}\n"
    assert rendered_paragraphs(markdown) == [text, text]
    assert f'href="{url}"' in (render_pypi_markdown(markdown) or "")


URL_CHARS = ["/", "~", "_", "*", "(", ")", ".", "a", "[", "]", "`", "&amp;", ":", "!", "'", '"', "#", "-", "%41", "?"]
# Text around URLs: prose and punctuation, and URLs (scheme, host, odd path) after a space, or an
# opening bracket, quote or backtick, as a sentence has them; never glued to the text before.
URL = st.builds(
    "".join,
    st.tuples(
        st.sampled_from([" ", "(", '"', "`", " ("]),
        st.sampled_from(["https://", "http://", "HTTPS://", "Http://", "www."]),
        st.sampled_from(["x.org", "example.com", "a-b.io", "xn--mnchen-3ya.de", "x.org:8080"]),
        st.lists(st.sampled_from(URL_CHARS), max_size=6).map("".join),
    ),
)
URL_TEXT = (
    st.lists(st.one_of(URL, st.sampled_from([*URL_CHARS, " ", " see ", "<", ">", ",", ";", "\\", " http:// ", "!",
                                             "\u00a0"])), min_size=1, max_size=8)
    .map("".join)
    .filter(lambda s: s == s.strip() and s != "")
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(URL_TEXT)
def test_md_macro_round_trips_text_with_urls(escape: Any, text: str) -> None:
    assert rendered_paragraphs(f"# t\n\n{escape.md(text)}\n\n## next\n") == [text, text]


# Requirements the extras question accepts (no backslash: a marker's string refuses it), with | and `.
CELLS = ["acme>=1", 'acme; os_name == "a|b"', 'acme; os_name == "`x``y`"', "acme; os_name == '|`'", "a; os_name=='`'"]


@pytest.mark.parametrize("text", CELLS)
def test_md_cell_code_is_read_back_as_the_text_in_a_table(
    jinja_env: jinja2.Environment, escape: Any, text: str
) -> None:
    """An extras table row (README.md, the docs site's extras page), as PyPI and as MyST's parser read it."""
    assert extras_message(jinja_env, text) == ""
    table = f"| extra | installs |\n|---|---|\n| `x` | {escape.md_cell_code(text)} |\n"
    cells = [re.findall(r"<td><code>(.*?)</code></td>", html, flags=re.DOTALL) for html in
             (render_pypi_markdown(table) or "", MarkdownIt("commonmark").enable("table").render(table))]  # fmt: skip
    assert [[unescape(cell) for cell in row] for row in cells] == [["x", text], ["x", text]]


# --- Odd but valid answers, end to end ---------------------------------------------------------
ODD: list[tuple[str, dict[str, str]]] = [
    (
        "quotes-backslash-hash-colon",
        {
            "description": 'Fast "acme" tools: 100% \\ safe # not a comment',
            "user_name": "Zoë O'Brien-Łukasz \\ Jr.",
            "keywords": 'say "hi", back\\slash, #hash, key: value',
            "copyright_holder": 'Acme "Tools" \\ Ltd. # 1',
        },
    ),
    (
        "jinja-syntax",
        {
            "description": "Renders {{ name }} and {% if x %} verbatim {# no comment #}",
            "user_name": "{{ user }} {% raw %}",
            "keywords": "{{ x }}, {% y %}",
            "copyright_holder": "{{ holder }} {%- endraw %}",
        },
    ),
    (
        "unicode-and-emoji",
        {
            "description": "Ünïcödé 日本語, emoji 😀🚀 and ligature ﬁ",
            "user_name": "José Ñúñez 山田 😀",
            "keywords": "😀, ünïcode, 日本語",
            "copyright_holder": "Zoë 😀 Łukasz",
        },
    ),
    (
        "markdown-and-yaml-syntax",
        {
            "description": "- key: value *not emphasis* _nor_ `code` [link](x) <b>tag</b> &amp; :rocket: ~x~",
            "user_name": "Ada! #1 & Co. *star* ~tilde~ 'single' {curly}",
            "keywords": "- dash, key: value, !tag, &anchor, *alias",
            "copyright_holder": "- key: value # comment",
        },
    ),
    (
        "yaml-special-words",
        {
            "description": "yes",
            "user_name": "null",
            "keywords": "true, 1.0, ~, no",
            "copyright_holder": "0123",
        },
    ),
]
ODD_IDS = [case_id for case_id, _ in ODD]


def check_rendered_files(project: Path, answers: dict[str, str]) -> dict[str, Any]:
    """Every TOML and YAML file parses, and the answers reach them, README and LICENSE unchanged."""
    for path in project.rglob("*.toml"):
        tomllib.loads(path.read_text(encoding="utf-8"))
    for path in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["description"] == answers["description"]
    assert pyproject["authors"] == [
        {"name": answers["user_name"], "email": answers.get("user_email", "you@example.com")}
    ]
    recorded = load_answers(project)
    for question, value in answers.items():
        assert recorded[question] == value, question
    if "keywords" in answers:
        assert pyproject["keywords"] == keywords_of(answers["keywords"])
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert rendered_paragraphs(readme) == [answers["description"]] * 2
    if "copyright_holder" in answers:
        license_text = (project / "LICENSE").read_text(encoding="utf-8")
        assert f"{recorded['copyright_year']} {answers['copyright_holder']}" in license_text
    return pyproject


@pytest.mark.parametrize("answers", [a for _, a in ODD], ids=ODD_IDS)
def test_odd_answers_render_valid_files(template: Path, tmp_path: Path, answers: dict[str, str]) -> None:
    check_rendered_files(render(template, tmp_path / "demo", answers), answers)


# Hypothesis draws these often, so that valid renders are common rather than rare.
TRICKY = st.sampled_from(
    [*list("\"'\\#:{}%<>&*_`[]~!|-. "), "{{", "}}", "{%", "%}", "😀", "é", "日", "\u00a0", "\t", "\n"]
)
TEXT = st.lists(st.one_of(TRICKY, st.characters(blacklist_categories=("Cs",))), max_size=24).map("".join)


@settings(max_examples=25, deadline=None)
@given(description=TEXT, user_name=TEXT)
def test_any_text_is_refused_cleanly_or_round_trips(template: Path, description: str, user_name: str) -> None:
    """Either a validation error naming the question, or files that declare exactly the input."""
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "demo"
        try:
            project = render(template, dst, {"description": description, "user_name": user_name})
        except ValueError as err:
            refusal = str(err)
        else:
            check_rendered_files(project, {"description": description, "user_name": user_name})
            return
        assert re.match(
            r"Validation error for question '(description|user_name)': [^\n]+\n(description|user_name) \"", refusal
        )
        assert not dst.exists()


# Every backend writes metadata with its own quirks (hatchling sorts keywords, uv-build writes
# Author and Author-email, poetry-core writes Author apart). test_building's matrix builds each
# backend's library (test_extension each extension) with ODD_ANSWERS; the metadata is read back.
LIBRARIES, EXTENSIONS = kind_backends("library"), kind_backends("extension")
BUILT_CASES = [f"{b}-library" for b in LIBRARIES] + [f"{b}-extension" for b in EXTENSIONS]


@pytest.fixture(scope="module", params=BUILT_CASES)
def built(request: pytest.FixtureRequest) -> tuple[Path, Metadata]:
    case_id = request.param
    project, dists = build_once(case_id, matrix_case_answers(case_id))
    return project, Metadata.from_email(dists.wheel_metadata_bytes(), validate=True)


@pytest.mark.slow
def test_odd_answers_reach_built_metadata_exactly(built: tuple[Path, Metadata]) -> None:
    project, meta = built
    check_rendered_files(project, {k: v for k, v in ODD_ANSWERS.items() if k != "project_name"})
    assert meta.summary == ODD_ANSWERS["description"]
    assert read_author(meta) == (ODD_ANSWERS["user_name"], ODD_ANSWERS["user_email"])
    assert sorted(meta.keywords or []) == sorted(keywords_of(ODD_ANSWERS["keywords"]))  # hatchling sorts them
    assert canonicalize_name(meta.name) == "acme-odd-tools"
