"""Names Python and PyPI refuse: import_name and project_name against keywords, the standard
library's modules and PyPI's own list of the names it will not create a project under."""

from __future__ import annotations

import json
import keyword
import re
import sys
from itertools import chain

import jinja2
import stdlib_list
from packaging.utils import canonicalize_name

from support.config import TEMPLATE_ROOT, table
from support.validators import validator_message


def test_stdlib_table_covers_the_running_python() -> None:
    names = json.loads(table("stdlib_module_names"))
    assert set(sys.stdlib_module_names) <= set(names), set(sys.stdlib_module_names) - set(names)
    assert "test" in names  # CPython's own test package is left out of sys.stdlib_module_names
    assert names == sorted(set(names))


def test_every_keyword_is_refused_as_import_name(jinja_env: jinja2.Environment) -> None:
    for word in [w for w in keyword.kwlist if w.islower()]:
        assert "is a Python keyword" in validator_message(jinja_env, "import_name", word), word
    for soft in keyword.softkwlist:  # `import match` works: soft keywords are valid module names
        assert "keyword" not in validator_message(jinja_env, "import_name", soft), soft


def test_every_stdlib_module_is_refused_as_import_and_project_name(jinja_env: jinja2.Environment) -> None:
    for name in [*sys.stdlib_module_names, "test"]:
        if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and not keyword.iskeyword(name):
            message = validator_message(jinja_env, "import_name", name)
            assert "is a standard-library module" in message, name
            assert "never imported" in message, name
        project_name = name.strip("_").replace("_", "-").title()  # PyPI compares normalised names
        if project_name:
            assert "PyPI refuses" in validator_message(jinja_env, "project_name", project_name), project_name
    assert validator_message(jinja_env, "import_name", "acme_json") == ""
    assert validator_message(jinja_env, "project_name", "json-tools") == ""


def pypi_stdlib_prohibited() -> set[str]:
    """warehouse's STDLIB_PROHIBITED (warehouse/packaging/services.py), computed as it computes it:
    every module and dotted prefix stdlib-list knows, over all its Pythons, normalised."""
    names = chain.from_iterable(stdlib_list.stdlib_list(version) for version in stdlib_list.short_versions)
    prefixes = {".".join(parts[: i + 1]) for parts in (name.split(".") for name in names) for i in range(len(parts))}
    return {canonicalize_name(s.rstrip("-_.").lstrip("-_.")) for s in prefixes}


def test_every_name_pypi_refuses_as_stdlib_is_refused_with_a_name_it_takes(jinja_env: jinja2.Environment) -> None:
    """http-server, json-tool, urllib2...: PyPI refuses them (the dotted prefixes of stdlib modules,
    Python 2's too), so project_name does, and the name its message suggests passes."""
    words = []
    for part in sorted((TEMPLATE_ROOT / "includes" / "tables" / "pypi_stdlib_names").iterdir()):
        letter = part.read_text(encoding="utf-8").split()
        assert (part.name, letter) == (f"{letter[0][0]}.jinja", sorted(letter)), part  # a file per first letter
        assert {word[0] for word in letter} == {letter[0][0]}, part
        words += letter
    prohibited = pypi_stdlib_prohibited()
    assert set(words) == prohibited, set(words) ^ prohibited
    suggestions = set()
    for name in sorted(prohibited):
        message = validator_message(jinja_env, "project_name", name)
        assert "PyPI refuses to create projects with standard-library names" in message, name
        (suggestion,) = re.findall(r'\(e\.g\. use\s+"([^"]+)"\)', message)
        suggestions.add(suggestion)
    assert not [s for s in suggestions if validator_message(jinja_env, "project_name", s)]
    assert validator_message(jinja_env, "project_name", "http-server-tools") == ""
