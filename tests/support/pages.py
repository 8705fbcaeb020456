"""README.md, docs/ and generated Markdown read as Markdown: their fenced blocks with the `<!-- test: ... -->` marker
right before each, the lines of their shell blocks, and README's install commands."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from support.config import TEMPLATE_ROOT

PAGES = [TEMPLATE_ROOT / "README.md", *sorted((TEMPLATE_ROOT / "docs").glob("*.md"))]
README = TEMPLATE_ROOT / "README.md"
SHELL_LANGS = {"console", "bash", "sh", "shell"}


@dataclass(frozen=True)
class Fence:
    page: str
    line: int
    lang: str
    body: str
    marker: str | None


def page_name(path: Path) -> str:
    return path.relative_to(TEMPLATE_ROOT).as_posix()


def is_marker(token: Any) -> bool:
    return token is not None and token.type == "html_block" and token.content.lstrip().startswith("<!-- test:")


@cache
def fences(path: Path) -> list[Fence]:
    """Every fenced block of a page, with the `<!-- test: ... -->` comment right before it, if any."""
    tokens = [None, *MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8")), None]
    found = []
    for prev, token, nxt in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if is_marker(token) and (nxt is None or nxt.type != "fence"):
            raise ValueError(f"{page_name(path)}:{token.map[0] + 1}: a test marker must be right before a fence")
        if token.type == "fence":
            marker = prev.content.strip() if is_marker(prev) else None
            found.append(Fence(page_name(path), token.map[0] + 1, token.info.strip(), token.content, marker))
    return found


def code_blocks(markdown: str, lang: str) -> list[str]:
    """The `lang` fences of a Markdown text, in order, as a reader copies them (list indentation removed)."""
    return [t.content for t in MarkdownIt("commonmark").parse(markdown) if t.type == "fence" and t.info.strip() == lang]


def console_blocks(markdown: str) -> list[str]:
    """The console fences of a Markdown text, in order, as a reader copies them (list indentation removed)."""
    return code_blocks(markdown, "console")


def parse_marker(marker: str) -> tuple[str, dict[str, str], set[str], dict[str, str]]:
    """`<!-- test: run in=project tty\\nbefore: ...\\n-->` -> ("run", {"in": "project"}, {"tty"}, {"before": ...})."""
    inner = marker.removeprefix("<!--").removesuffix("-->").strip()
    first, *rest = inner.splitlines()
    kind, *words = shlex.split(first.removeprefix("test:").strip())
    options = dict(w.split("=", 1) for w in words if "=" in w)
    flags = {w for w in words if "=" not in w}
    hooks = {}
    for line in filter(None, (r.strip() for r in rest)):
        key, sep, value = line.partition(":")
        if not sep or key not in ("before", "after"):
            raise ValueError(f"unknown line in test marker: {line!r}")
        hooks[key] = value.strip()
    return kind, options, flags, hooks


def shell_lines() -> list[tuple[str, str, bool]]:
    """(where, line, runs) for every line of every shell fence in README.md and docs/."""
    lines = []
    for path in PAGES:
        for fence in fences(path):
            if fence.lang in SHELL_LANGS:
                runs = bool(fence.marker) and parse_marker(fence.marker)[0] == "run"
                # Without a trailing `# comment`: NOT_RUN names commands, not their explanations.
                lines += [
                    (f"{fence.page}:{fence.line}", re.sub(r"\s+#\s.*$", "", line.strip()), runs)
                    for line in fence.body.splitlines()
                ]
    return lines


def readme_install_lines() -> list[str]:
    """README's install block: the first console block of "Render a project"."""
    section = README.read_text(encoding="utf-8").split("\n## Render a project\n", 1)[1]
    first = next(f for f in fences(README) if f.lang == "console" and f.body.strip() in section)
    return first.body.splitlines()


def readme_pipx_line(python: str) -> str:
    """The command README's table gives for getting pipx, on the row for `python`."""
    (row,) = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {python}")]
    return re.findall(r"`([^`]+)`", row.rsplit(" | ", 1)[1])[0]
