"""Organisation defaults: copier settings, an org data file and --data combine in a fixed order."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import released_template
from support.proc import commit_new_repo, run, tool
from support.render import load_answers, render_project
from support.updating import update_api


@pytest.fixture(scope="module")
def released_repo() -> Path:
    return released_template("v1.0.0")


def use_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, defaults: str) -> None:
    """A copier settings file whose `defaults:` mapping holds `defaults` (YAML), in use for this test."""
    settings = tmp_path / "settings.yml"
    settings.write_text("defaults:\n" + "".join(f"  {line}\n" for line in defaults.splitlines()), encoding="utf-8")
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))


def test_data_file_beats_settings_and_data_beats_both(
    tmp_path: Path, released_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(
        tmp_path,
        monkeypatch,
        "user_name: Ada Lovelace\nuser_email: ada@acme.example\ngithub_owner: ada-personal\nlicense: Apache-2.0",
    )
    org = tmp_path / "acme.yml"
    org.write_text(
        'github_owner: acme-corp\nlicense: BSD-3-Clause\npython_min: "3.12"\ncopyright_holder: Acme Corp\n',
        encoding="utf-8",
    )
    dst = tmp_path / "acme-widgets"
    run([tool("copier"), "copy", "--defaults", "--data-file", org, "--data", "license=MPL-2.0", released_repo, dst])
    answers = load_answers(dst)
    assert answers["user_name"] == "Ada Lovelace"  # settings `defaults:` (well-known name)
    assert answers["user_email"] == "ada@acme.example"
    assert answers["github_owner"] == "acme-corp"  # the org data file beats the settings
    assert answers["python_min"] == "3.12"
    assert answers["copyright_holder"] == "Acme Corp"
    assert answers["license"] == "MPL-2.0"  # --data beats both
    assert answers["_commit"] == "v1.0.0"
    assert "Copyright (C) " in (dst / "LICENSE").read_text(encoding="utf-8")
    assert "Acme Corp" in (dst / "LICENSE").read_text(encoding="utf-8")


def test_settings_alone_prefill_well_known_names(
    tmp_path: Path, released_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(tmp_path, monkeypatch, "user_name: Grace Hopper\nuser_email: grace@navy.example")
    dst = tmp_path / "cobol-tools"
    run([tool("copier"), "copy", "--defaults", released_repo, dst])
    answers = load_answers(dst)
    assert (answers["user_name"], answers["user_email"]) == ("Grace Hopper", "grace@navy.example")
    assert answers["copyright_holder"] == "Grace Hopper"  # derived from user_name
    assert answers["license"] == "MIT"


# A settings file is YAML, like a data file, but copier reads its values with no --data check:
# each arrived as another value, without a word.
SETTINGS_TYPOS = [
    ("copyright_holder: NO", "copyright_holder", "copyright_holder is the YAML boolean false in your copier settings"),
    ("version: 1.10", "version", "version is the YAML number 1.1 in your copier settings"),
    ("github_owner: 007", "github_owner", "github_owner is the YAML number 7 in your copier settings"),
    ("use_renovate: flase", "use_renovate", 'use_renovate "flase" in your copier settings (defaults:) is not true'),
]


@pytest.mark.parametrize(("line", "question", "said"), SETTINGS_TYPOS, ids=[q for _, q, _ in SETTINGS_TYPOS])
def test_settings_values_yaml_misreads_are_refused_unless_the_data_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, question: str, said: str
) -> None:
    use_settings(tmp_path, monkeypatch, line)
    dst = tmp_path / "project"
    with pytest.raises(ValueError, match=rf"^Validation error for question '{question}': ") as err:
        render_project(dst, {"project_name": "acme"})
    assert said in str(err.value), str(err.value)
    assert not dst.exists()
    # Given on the command line, the answer is the user's: the settings value is not used.
    answer = "false" if question == "use_renovate" else "Acme" if question != "version" else "1.10"
    render_project(dst, {"project_name": "acme", question: answer})
    assert str(load_answers(dst)[question]).lower() == answer.lower()


def test_settings_values_that_are_answers_as_yaml_reads_them_still_prefill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """extras is YAML (a mapping is its answer), and a choice checks its own value: neither is refused."""
    use_settings(tmp_path, monkeypatch, 'extras: {clients: ["acme-client>=0.3"]}\npython_min: 3.12')
    dst = render_project(tmp_path / "acme", {"project_name": "acme", "project_kind": "meta-package"})
    assert (load_answers(dst)["extras"], load_answers(dst)["python_min"]) == ({"clients": ["acme-client>=0.3"]}, "3.12")


@pytest.mark.slow  # a copy and an update from a template repository
def test_an_update_replays_the_recorded_answer_whatever_the_settings_say(
    tmp_path: Path, released_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dst = render_project(tmp_path / "acme", {"project_name": "acme"}, src=released_repo)
    commit_new_repo(dst, "First copy")
    use_settings(tmp_path, monkeypatch, "use_renovate: flase\ncopyright_holder: NO")
    update_api(dst, skip_answered=True)
    assert (load_answers(dst)["use_renovate"], load_answers(dst)["copyright_holder"]) == (True, "Your Name")
