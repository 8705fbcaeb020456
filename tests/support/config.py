"""This repository's layout and copier.yml as copier merges it, with the tables it includes."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from support.proc import git

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
COPIER_YML = TEMPLATE_ROOT / "copier.yml"
# The table every generated `uses:` line renders from, and which this repository's Renovate moves.
ACTIONS_TABLE = "includes/tables/actions.yml"
# The organisation-wide Renovate workflow an organisation copies (outside template/).
FLEET_WORKFLOW = TEMPLATE_ROOT / "fleet" / "renovate.yml"


def read_copier_config(read: Callable[[str], bytes]) -> dict[str, Any]:
    """copier.yml as copier merges it: its YAML documents in order, each `!include` in place.

    `read` gives a file's bytes by its path in the template (from a folder, or from a git tag).
    Keys keep the place of their first document and the value of their last, as copier's ChainMap.
    """

    class Loader(yaml.SafeLoader):
        """One loader class per call, so the `!include` constructor reads this template."""

    def include(_loader: yaml.SafeLoader, node: yaml.Node) -> list[Any]:
        path = str(node.value)
        assert not any(c in path for c in "*?["), f"copier.yml includes a glob ({path}): name each file"
        return [doc for doc in yaml.load_all(read(path), Loader=Loader) if doc]

    Loader.add_constructor("!include", include)
    merged: dict[str, Any] = {}
    for doc in yaml.load_all(read("copier.yml"), Loader=Loader):
        for part in doc if isinstance(doc, list) else [doc] if doc else []:
            merged.update(part)
    return merged


@cache
def load_copier_config() -> dict[str, Any]:
    """copier.yml and the tables it includes, as data: the single source of backends, Python
    versions, licenses and pins (includes/tables/), the questions, and the computed values."""
    return read_copier_config(lambda path: (COPIER_YML.parent / path).read_bytes())


def copier_config_at(repo: Path, ref: str) -> dict[str, Any]:
    """copier.yml and its includes as a commit of `repo` holds them (a release tag, say)."""
    return read_copier_config(lambda path: git(repo, "show", f"{ref}:{path}").encode())


def question_names(config: dict[str, Any] | None = None) -> list[str]:
    """Every question a user can answer in `config` (this copier.yml by default): settings start
    with `_`, computed values are `when: false`."""
    return [
        name
        for name, spec in (load_copier_config() if config is None else config).items()
        if not name.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
    ]


def table(name: str) -> Any:
    """A computed table from copier.yml (`backends`, `python_versions`, `licenses`, `actions`)."""
    return load_copier_config()[name]["default"]


def backend_names() -> list[str]:
    return list(table("backends"))


def kind_backends(kind: str) -> list[str]:
    """The backends that build a project_kind (the `kinds` column of includes/tables/backends.yml)."""
    return [name for name, spec in table("backends").items() if kind in spec["kinds"]]


def meta_package_backends() -> list[str]:
    return kind_backends("meta-package")


def version_plugin_backends() -> list[str]:
    """The backends that can derive the version from git tags (version_source: git-tag)."""
    return [name for name, spec in table("backends").items() if spec["version_plugin"] is not None]


PYTHON_VERSIONS = list(load_copier_config()["python_versions"]["default"])
