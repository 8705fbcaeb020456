"""Answers given as data: what copier's command line does with --data and --data-file, refused
with a clear message and exit code 1, nothing written, or taken as the user meant."""

from __future__ import annotations

import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from support.config import load_copier_config, question_names
from support.proc import run, tool
from support.refusals import (
    accepted_by_copier,
    copier_cli_in_process,
    copier_copy,
    data_file,
    refused_by_copier,
    render,
    snapshot,
)
from support.render import copy_template_tree, load_answers, template_source


@pytest.fixture(scope="module")
def template() -> Path:
    """The working tree without .git: copier reads it in place instead of cloning it per render."""
    return template_source()


@pytest.mark.parametrize(
    ("line", "name", "number"),
    [
        ("python_min: 3.10", "python_min", "3.1"),
        ("version: 1.10", "version", "1.1"),
        ("copyright_year: 2026.0", "copyright_year", "2026.0"),
    ],
    ids=["python_min", "version", "copyright_year"],
)
def test_yaml_numbers_in_a_data_file_are_refused_with_a_hint(
    template: Path, tmp_path: Path, line: str, name: str, number: str
) -> None:
    """`version: 1.10` would otherwise become the valid version 1.1 without a word; 3.10 an unknown 3.1."""
    real_cli = name == "version"  # one case through the command; the others through its code in process
    data = data_file(tmp_path, f"{line}\n")
    dst = tmp_path / "project"
    message = refused_by_copier(template, dst, "project_name", "--data-file", data, real_cli=real_cli)
    assert message.startswith("Validation error for question 'project_name': quote versions in a YAML data file\n")
    assert f"{name} is the YAML number {number}, not text" in message
    data.write_text(line.replace(": ", ': "') + '"\n', encoding="utf-8")  # quoted, as the hint says
    if name != "copyright_year":  # "2026.0" is no year: quoting only shows the question's own rule
        accepted_by_copier(template, dst, "--data-file", data, real_cli=real_cli)
        assert load_answers(dst)[name] == line.split(": ")[1]


# (how it is given, the unknown key, the question it is close to, if any)
UNKNOWN_KEYS = [
    (["--data", "no_such_question=1"], "no_such_question", None),
    (["--data", "use-testpypi=false"], "use-testpypi", "use_testpypi"),
    ("licence: Apache-2.0\n", "licence", "license"),
    ('pyhton_min: "3.12"\n', "pyhton_min", "python_min"),
    ("use_testpypi: false\nrenovate: false\n", "renovate", "use_renovate"),
]


@pytest.mark.parametrize(("given", "key", "near"), UNKNOWN_KEYS, ids=[case[1] for case in UNKNOWN_KEYS])
def test_unknown_keys_are_refused_naming_the_nearest_question(
    template: Path, tmp_path: Path, given: list[str] | str, key: str, near: str | None
) -> None:
    """copier ignores an unknown key without a word: a typo in an organisation's file would drop its policy."""
    dst = tmp_path / "project"
    args = given if isinstance(given, list) else ["--data-file", str(data_file(tmp_path, given))]
    real_cli = key == "no_such_question"  # one case through the command; the others through its code in process
    message = refused_by_copier(template, dst, "project_name", *args, real_cli=real_cli)
    assert message.startswith("Validation error for question 'project_name': unknown question in the data\n")
    text = " ".join(message.split())
    assert f'"{key}" (in --data or --data-file) is not a question of this template' in text
    assert (f"did you mean {near}?" in text) if near else ("did you mean" not in text)
    assert f"The questions are {', '.join(question_names())} (docs/questions.md)." in text


# A valid answer to every question (extras too: a library ignores it).
EVERY_ANSWER = {
    "project_name": "acme-tools", "project_kind": "library", "import_name": "acme_tools", "command_name": "acme",
    "extras": {"cli": ["click>=8.1"]}, "description": "Tools that make acme faster", "version": "0.2.0",
    "development_status": "4 - Beta", "keywords": "acme", "user_name": "Ada Lovelace", "user_email": "ada@example.org",
    "github_owner": "acme-corp", "repository_name": "acme-tools-py", "default_branch": "trunk", "license": "Apache-2.0",
    "copyright_holder": "Acme Corp", "copyright_year": "2024-2026", "python_min": "3.12", "build_backend": "hatchling",
    "version_source": "git-tag", "use_testpypi": False, "docs_site": "sphinx", "use_renovate": False,
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "unasked"), [("library", {"extras"}), ("meta-package", {"import_name", "command_name"})]
)
def test_every_question_and_copiers_own_keys_pass_as_data(
    template: Path, tmp_path: Path, kind: str, unasked: set[str]
) -> None:
    """A data file answering every question its project_kind asks holds no unknown key, nor is a key
    of copier's own (`_...`) one; between the two kinds, every question is answered."""
    assert list(EVERY_ANSWER) == question_names()
    given = {q: v for q, v in EVERY_ANSWER.items() if q not in unasked} | {"project_kind": kind}
    dst = tmp_path / "acme-tools"
    answers_file = data_file(tmp_path, yaml.safe_dump(given))
    run(
        [
            tool("copier"),
            "copy",
            "--defaults",
            "--quiet",
            "--data-file",
            answers_file,
            "--data",
            "_note=x",
            template,
            dst,
        ]
    )
    recorded = load_answers(dst)
    assert {q: recorded[q] for q in given if q != "extras"} == {q: v for q, v in given.items() if q != "extras"}
    assert "_note" not in recorded


@pytest.mark.parametrize("question", ["use_testpypi", "use_renovate"])
def test_yes_no_typos_are_refused(template: Path, tmp_path: Path, question: str) -> None:
    """copier reads any text as a boolean: `maybe` and `flase` would be true."""
    dst = tmp_path / "project"
    for typo in ["maybe", "flase"]:
        real_cli = (question, typo) == ("use_testpypi", "maybe")  # one case through the command
        message = refused_by_copier(template, dst, question, "--data", f"{question}={typo}", real_cli=real_cli)
        assert message == (
            f"Validation error for question '{question}': must be true or false\n"
            f'{question} "{typo}" is not true or false: copier would read it as true.\n'
            f"Give true or false, e.g. --data {question}=false"
        )
    accepted_by_copier(template, dst, "--data", f"{question}=false", real_cli=question == "use_testpypi")
    assert load_answers(dst)[question] is False


@pytest.mark.parametrize(
    ("line", "name", "read_as", "text"),
    [("copyright_holder: NO", "copyright_holder", "boolean false", "NO"),
     ("github_owner: on", "github_owner", "boolean true", "on"),
     ("description: Yes", "description", "boolean true", "Yes"),
     ("github_owner: 007", "github_owner", "number 7", "007"), ("version: 1_0", "version", "number 10", "1.0"),
     ("copyright_holder: 2024-01-01", "copyright_holder", "value 2024-01-01", "2024-01-01"),
     ("description: [a, b]", "description", "list ['a', 'b']", "[a, b]")],
    ids=["boolean-NO", "boolean-on", "boolean-Yes", "octal", "underscore", "date", "list"],
)  # fmt: skip
def test_yaml_values_that_are_not_text_in_a_data_file_are_refused_with_a_hint(
    template: Path, tmp_path: Path, line: str, name: str, read_as: str, text: str
) -> None:
    """YAML 1.1 reads `NO` as false (the LICENSE would name "False"), `github_owner: 007` as 7 (every
    URL would name the account 7); a date crashed copier's own cast with a traceback."""
    real_cli = name == "copyright_holder"  # through the command; the others through its code in process
    dst = tmp_path / "project"
    message = refused_by_copier(
        template, dst, "project_name", "--data-file", data_file(tmp_path, f"{line}\n"), real_cli=real_cli
    )
    expected = "quote text in a YAML data file"
    assert message.startswith(f"Validation error for question 'project_name': {expected}\n")
    assert f"{name} is the YAML {read_as}, not text" in message
    accepted_by_copier(template, dst, "--data-file", data_file(tmp_path, f'{name}: "{text}"\n'), real_cli=real_cli)
    assert load_answers(dst)[name] == text
    if text == "NO":
        assert f"{load_answers(dst)['copyright_year']} NO" in (dst / "LICENSE").read_text(encoding="utf-8")


def test_a_command_line_that_is_not_utf8_is_refused_naming_the_answer(template: Path, tmp_path: Path) -> None:
    """`--data description=caf<0xE9>` from a Latin-1 terminal: Python reads the byte as the lone surrogate
    U+DCE9, which passed every rule and crashed copier's write with a traceback, files half written."""
    dst = tmp_path / "project"
    latin1 = b"caf\xe9 au lait".decode("utf-8", "surrogateescape")  # as Python reads the byte in argv
    message = refused_by_copier(template, dst, "project_name", "--data", f"description={latin1}", real_cli=False)
    assert message.startswith("Validation error for question 'project_name': not UTF-8 text\n"), message
    assert 'description "caf\\udce9 au lait" is not UTF-8 text' in message, message
    accepted_by_copier(template, dst, "--data", "description=café au lait", real_cli=False)
    assert load_answers(dst)["description"] == "café au lait"


CHOICE_QUESTIONS = [q for q in question_names() if "choices" in load_copier_config()[q]]


@pytest.mark.parametrize("question", CHOICE_QUESTIONS)
def test_a_value_no_choice_offers_is_refused_by_name(template: Path, tmp_path: Path, question: str) -> None:
    """Every choice question: copier's own refusal (the command exits 1) names it and lists the choices."""
    dst = tmp_path / "project"
    with pytest.raises(ValueError, match=rf"^Invalid choice for '{question}': 'nope' is not in \['"):
        copier_cli_in_process(template, dst, "--data", f"{question}=nope")
    assert not dst.exists()


def test_a_year_in_a_data_file_may_be_a_number(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "project"
    accepted_by_copier(template, dst, "--data-file", data_file(tmp_path, "copyright_year: 2024\n"), real_cli=False)
    assert load_answers(dst)["copyright_year"] == "2024"


@pytest.mark.parametrize(
    ("question", "project_name", "refusal", "given", "bad"),
    [("import_name", "3d-tools", 'import_name "3d_tools" is not a lowercase Python identifier', "tools_3d", "3d"),
     ("repository_name", "acme.git", 'repository_name "acme.git" ends in ".git"', "acme-git", "x.git")],
    ids=["import_name", "repository_name"],
)  # fmt: skip
def test_a_derived_answer_that_breaks_its_rule_says_how_to_give_it(
    template: Path, tmp_path: Path, question: str, project_name: str, refusal: str, given: str, bad: str
) -> None:
    """`3d-tools` and `acme.git` are fine distribution names; the import name 3d_tools is no
    identifier, and GitHub would drop the repository name's `.git`."""
    dst = tmp_path / "project"
    real_cli = question == "import_name"  # one case through the command; the other through its code in process
    message = refused_by_copier(template, dst, question, "--data", f"project_name={project_name}", real_cli=real_cli)
    assert refusal in message
    assert message.endswith(
        f'Unless given, {question} follows project_name ("{project_name}"): give one that follows the\n'
        f"rule with --data {question}=NAME."
    )
    data = ("--data", f"project_name={project_name}", "--data", f"{question}={given}")
    accepted_by_copier(template, dst, *data, real_cli=False)
    if question == "import_name":
        assert (dst / "src" / "tools_3d" / "__init__.py").is_file()
    # An answer the user gave is refused by its rule alone.
    assert "Unless given" not in refused_by_copier(
        template, tmp_path / "p2", question, "--data", f"{question}={bad}", real_cli=False
    )


# A quote or bracket inside a quoted YAML string is text, not an unpaired one.
QUOTED_EXTRAS = {
    """{odd: ["acme; os_name == \\"it's\\""]}""": 'acme; os_name == "it\'s"',
    """{odd: ['acme; platform_version == "["']}""": 'acme; platform_version == "["',
    """{odd: ['acme; os_name == "it''s {"']}""": 'acme; os_name == "it\'s {"',
}


@pytest.mark.parametrize("answer", QUOTED_EXTRAS)
def test_quotes_and_brackets_inside_quoted_yaml_extras_are_accepted(
    template: Path, tmp_path: Path, answer: str
) -> None:
    dst = tmp_path / "project"
    accepted_by_copier(
        template, dst, "--data", "project_kind=meta-package", "--data", f"extras={answer}", real_cli=False
    )
    extras = tomllib.loads((dst / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert extras["odd"] == [QUOTED_EXTRAS[answer]]


@pytest.mark.parametrize("answer", ["{clients: [acme", '{clients: ["acme>=1]}', "{clients:", "{clients: [acme]}}"])
def test_malformed_yaml_extras_on_the_command_line_name_extras(template: Path, tmp_path: Path, answer: str) -> None:
    """copier parses a yaml answer before its validator runs; project_name's validator runs first and names it."""
    real_cli = answer == "{clients: [acme"  # one case through the command; the others through its code in process
    dst = tmp_path / "project"
    message = refused_by_copier(
        template,
        dst,
        "project_name",
        "--data",
        "project_kind=meta-package",
        "--data",
        f"extras={answer}",
        real_cli=real_cli,
    )
    assert message.startswith("Validation error for question 'project_name': extras: unpaired brackets/quotes\n")
    assert f'extras "{answer}" is no YAML mapping' in message
    example = message.splitlines()[-1]  # the way out: the whole answer in single quotes
    accepted_by_copier(template, dst, "--data", "project_kind=meta-package", *shlex.split(example), real_cli=real_cli)
    assert set(
        tomllib.loads((dst / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    ) == {"clients", "worker", "all"}


def test_other_yaml_errors_in_extras_are_copiers_own_message(template: Path, tmp_path: Path) -> None:
    """What docs/questions.md says of YAML that pairs its brackets yet does not parse: copier's parser error."""
    dst = tmp_path / "project"
    proc = copier_copy(template, dst, "--data", "project_kind=meta-package", "--data", "extras={clients [acme]}")
    assert proc.returncode == 1, proc.stderr
    message = proc.stderr[proc.stderr.index("\nValueError: ") :]
    assert message.startswith("\nValueError: while parsing a flow mapping\n"), message
    assert "extras" not in message, message
    assert not dst.exists()


def test_meta_package_with_defaults_needs_its_extras(template: Path, tmp_path: Path) -> None:
    """--defaults would make a meta-package that installs nothing, its README saying it installs other distributions."""
    dst = tmp_path / "project"
    message = refused_by_copier(template, dst, "extras", "--data", "project_kind=meta-package", real_cli=True)
    assert message.startswith("Validation error for question 'extras': a meta-package needs an extra\n")
    example = message.splitlines()[-1]
    accepted_by_copier(template, dst, "--data", "project_kind=meta-package", *shlex.split(example), real_cli=False)
    pyproject = tomllib.loads((dst / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["optional-dependencies"]["all"] == [f"{dst.name}[clients,worker]"]
    # No extras on purpose (typed at the prompt, or given): accepted, and the README says what it installs.
    empty = render(template, tmp_path / "empty", {"project_kind": "meta-package", "extras": {}})
    assert (
        "optional-dependencies" not in tomllib.loads((empty / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    )
    assert "It declares no extras yet, so installing it installs nothing else" in (empty / "README.md").read_text(
        encoding="utf-8"
    )


ONE_UNASKED = "is a question only a meta-package is asked: copier would drop it without a word. Leave it out, or give "
TWO_UNASKED = (
    "are questions only a library or an extension is asked: copier would drop them without a word. Leave them out, "
    "or give the project_kind they belong to."
)


@pytest.mark.parametrize(
    ("kind", "article", "given", "explained"),
    [
        ("library", "a", ["--data", "extras={clients: [acme-client]}"],
         f"extras (in --data or --data-file) {ONE_UNASKED}the project_kind it belongs to."),
        ("extension", "an", ["--data", "extras={}"],
         f"extras (in --data or --data-file) {ONE_UNASKED}the project_kind it belongs to."),
        ("meta-package", "a", ["--data", "extras={}", "--data", "import_name=acme", "--data", "command_name=acme"],
         f"import_name and command_name (in --data or --data-file) {TWO_UNASKED}"),
    ],
    ids=["extras-for-a-library", "extras-for-an-extension", "import-and-command-for-a-meta-package"],
)  # fmt: skip
def test_an_answer_the_kind_is_not_asked_is_refused(
    template: Path, tmp_path: Path, kind: str, article: str, given: list[str], explained: str
) -> None:
    """copier skips a question the project_kind does not ask, and drops its --data answer silently."""
    dst = tmp_path / "project"
    message = refused_by_copier(template, dst, "project_kind", "--data", f"project_kind={kind}", *given, real_cli=False)
    assert message.splitlines() == [
        f"Validation error for question 'project_kind': not asked of {article} {kind}",
        explained,
    ]


@pytest.mark.parametrize(
    ("how", "existing"),
    [("data", False), ("data-file", True), ("defaults", False), ("defaults", True)],
    ids=["data-new-folder", "data-file-existing-folder", "defaults-new-folder", "defaults-existing-folder"],
)
def test_cli_refuses_bad_answer_with_nonzero_exit(template: Path, tmp_path: Path, how: str, existing: bool) -> None:
    """The copier command itself: exit code, message on stderr, nothing written."""
    dst = tmp_path / ("Not Valid!" if how == "defaults" else "project")
    args = ["copy", "--defaults"]
    if how == "data":
        args += ["--data", "version=1.0+local"]
    elif how == "data-file":
        answers = tmp_path / "answers.yml"
        answers.write_text('version: "1.0+local"\n', encoding="utf-8")
        args += ["--data-file", str(answers)]
    if existing:
        dst.mkdir()
        (dst / "README.md").write_text("# mine\n", encoding="utf-8")
    before = snapshot(dst) if existing else None
    proc = subprocess.run([tool("copier"), *args, str(template), str(dst)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0, proc.stderr
    if how == "defaults":  # the default project_name is the folder's name
        assert """project_name "Not Valid!" is not a valid distribution name""" in proc.stderr
    else:
        assert """version "1.0+local" has a local part""" in proc.stderr
    assert (snapshot(dst) == before) if existing else not dst.exists()


def test_full_data_check_is_compiled_only_for_suspicious_data(tmp_path: Path) -> None:
    """includes/data_problems.jinja (the costly check) is read only when a value could be a problem.

    Without the file, clean data still renders (so no render compiles it), and an unknown key fails
    on the missing file (so the cheap gate in answers.jinja sends it there).
    """
    template = copy_template_tree(tmp_path / "tpl")
    (template / "includes" / "data_problems.jinja").unlink()
    clean = ["--data", "copyright_year=2026", "--data", "use_testpypi=false"]
    copy = [tool("copier"), "copy", "--defaults", "--quiet", str(template)]
    ok = subprocess.run([*copy, tmp_path / "clean" / "demo-pkg", *clean], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    for data in ("licence=MIT", "python_min=3.11"):  # a typo; a number read from a data file is a float
        dst = tmp_path / data.split("=")[0] / "demo-pkg"
        if data.startswith("python_min"):
            file = data_file(tmp_path, "python_min: 3.11\n")
            proc = subprocess.run([*copy, dst, "--data-file", file], capture_output=True, text=True, check=False)
        else:
            proc = subprocess.run([*copy, dst, "--data", data], capture_output=True, text=True, check=False)
        assert proc.returncode == 1, proc.stderr
        assert "question 'project_name': 'includes/data_problems.jinja' not found" in proc.stderr, proc.stderr
        assert not dst.exists()
