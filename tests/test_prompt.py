"""The prompt: copier's questions as a user meets them in an 80-column terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.config import meta_package_backends, question_names, table
from support.render import load_answers, template_source
from support.terminal import Terminal, help_lines


@pytest.fixture(scope="module")
def template() -> Path:
    """The working tree without .git: copier reads it in place instead of cloning it per render."""
    return template_source()


def test_every_help_fits_80_columns() -> None:
    """copier shows "🎤 " and the help: each line must fit, the first one above all."""
    for question in question_names():
        lines = help_lines(question)
        assert len(lines[0]) <= 76, (question, lines[0])
        assert all(len(line) <= 79 for line in lines), question  # no prefix before the later lines


@pytest.mark.slow  # every prompt, through a pseudo-terminal
def test_prompts_at_80_columns_show_every_help_and_only_buildable_backends(template: Path, tmp_path: Path) -> None:
    """Every question as a user meets it at 80 columns, choosing meta-package with the arrow keys."""
    dst = tmp_path / "meta"
    terminal = Terminal(["copy", str(template), str(dst)])
    seen: dict[str, str] = {}

    def waiting(screen: str) -> str | None:
        """The new question on the screen once its help is drawn whole (the lowest: the one waiting)."""
        asked = [q for q in question_names() if help_lines(q)[0] in screen and q not in seen]
        return asked[-1] if asked and all(line in screen for line in help_lines(asked[-1])) else None

    try:
        while terminal.pump(60):
            question = terminal.wait_until(waiting, 30)
            seen[question] = terminal.text()
            if question == "project_kind":
                terminal.child.send("\x1b[B")  # Down: meta-package
            if question == "build_backend":
                for _ in range(len(table("backends")) + 1):  # every item the arrow keys reach
                    before = terminal.text()
                    terminal.child.send("\x1b[B")
                    seen[question] += "\n" + terminal.wait_until(
                        lambda screen, before=before: screen if screen != before else None, 30
                    )
            terminal.child.send("\r")
    finally:
        status = terminal.close()
    assert status == 0, seen
    assert set(seen) == set(question_names()) - {"import_name", "command_name"}  # a meta-package has no code
    for question, screen in seen.items():
        for line in help_lines(question):
            assert line in screen, (question, line, screen)  # shown whole, not cut at the edge
    offered = {name for name in table("backends") if name in seen["build_backend"]}
    assert offered == set(meta_package_backends())
    assert load_answers(dst)["project_kind"] == "meta-package"


def test_prompt_at_80_columns_shows_the_rule_of_a_refused_answer(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "project"
    terminal = Terminal(["copy", str(template), str(dst)])
    try:
        assert terminal.pump(60)
        terminal.child.send("\x15bad name\r")  # Ctrl-U clears the default, then an invalid answer
        terminal.wait_for("Validation error for question 'project_name': use ASCII letters, digits, . _ -", 30)
        terminal.interrupt()
    finally:
        status = terminal.close()
    assert status != 0
    assert not dst.exists()


def test_prompt_explains_that_extras_is_not_yaml(template: Path, tmp_path: Path) -> None:
    """copier says only "Invalid input" when an answer does not parse as YAML: the help above says why."""
    dst = tmp_path / "meta"
    terminal = Terminal(["copy", str(template), str(dst)])
    try:
        assert terminal.pump(60)
        terminal.child.send("\r")  # project_name: the folder's name
        terminal.wait_for(help_lines("project_kind")[0], 30)
        terminal.child.send("\x1b[B\r")  # Down: meta-package
        terminal.wait_for(help_lines("extras")[-1], 30)
        terminal.child.send("\x15{clients: [acme\r")
        terminal.wait_for("Invalid input", 30)
        assert '"Invalid input" means the YAML does not parse: check brackets and quotes.' in terminal.text()
        terminal.child.send("\x15{clients: [acme-client]}\r")  # the brackets closed: the next question
        terminal.wait_for(help_lines("description")[0], 30)
        terminal.interrupt()
    finally:
        status = terminal.close()
    assert status != 0
    assert not dst.exists()


@pytest.mark.slow  # a prompt walk through a pseudo-terminal
def test_a_default_its_rule_refuses_is_left_for_the_user_to_type(template: Path, tmp_path: Path) -> None:
    """copier checks a default before it asks, and stopped on a refused one before any prompt: a
    folder named like a standard-library module gives project_name no default, and a typed name
    whose import name would start with a digit gives import_name none. The user types both."""
    dst = tmp_path / "email"
    terminal = Terminal(["copy", str(template), str(dst)])
    try:
        assert terminal.pump(60), terminal.text()
        terminal.wait_for(help_lines("project_name")[0], 30)
        terminal.child.send("3d-tools\r")
        terminal.wait_for(help_lines("project_kind")[0], 30)
        terminal.child.send("\r")  # library
        terminal.wait_for(help_lines("import_name")[0], 30)
        terminal.child.send("three_d_tools\r")
        terminal.wait_for(help_lines("command_name")[0], 30)
        screen = terminal.text()  # each answer as typed, after no default
        assert ["3d-tools" in screen, "email3d-tools" in screen] == [True, False], screen
        assert ["three_d_tools" in screen, "3d_toolsthree_d_tools" in screen] == [True, False], screen
        terminal.interrupt()
    finally:
        status = terminal.close()
    assert status != 0
    assert not dst.exists()
