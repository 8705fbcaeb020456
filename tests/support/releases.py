"""This template's release history: its `v*` tags and docs/changelog.md's sections, read from a repository."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.version import Version

from support.config import copier_config_at, question_names
from support.proc import git

CHANGELOG = Path("docs") / "changelog.md"


def release_tags(repo: Path) -> list[str]:
    """`repo`'s release tags in PEP 440 order, release candidates included (none in a tagless clone)."""
    return sorted(git(repo, "tag", "--list", "v*").split(), key=Version)


def changelog_parts(repo: Path) -> list[tuple[Version, str]]:
    """(version, the section's text after its `## VERSION` heading) in the changelog's order."""
    text = (repo / CHANGELOG).read_text(encoding="utf-8")
    parts = re.split(r"^## (\S+)\n", text, flags=re.MULTILINE)
    return [(Version(version), body) for version, body in zip(parts[1::2], parts[2::2], strict=True)]


def changelog_sections(repo: Path) -> dict[Version, str]:
    return dict(changelog_parts(repo))


def tags_without_a_section(repo: Path) -> list[str]:
    """Final release tags the changelog has no section for (a candidate shares its final's section)."""
    sections = changelog_sections(repo)
    return [tag for tag in release_tags(repo) if not Version(tag).is_prerelease and Version(tag) not in sections]


def released_questions_unknown(repo: Path, known: set[str]) -> dict[str, set[str]]:
    """{tag: questions that release asked and `known` lacks}: a project answered them at that tag, so
    its update passes them back as data and the unknown-key check must still know the names."""
    unknown = {}
    for tag in release_tags(repo):
        if asked := set(question_names(copier_config_at(repo, tag))) - known:
            unknown[tag] = asked
    return unknown
