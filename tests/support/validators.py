"""A question's validator rendered on its own, outside copier: fast enough to be exhaustive."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2.sandbox

from support.config import TEMPLATE_ROOT, load_copier_config, table


@cache
def validator_env() -> jinja2.Environment:
    """copier's kind of Jinja environment: sandboxed, its default filters, loader at the repo root."""
    return jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(TEMPLATE_ROOT),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        undefined=jinja2.StrictUndefined,
    )


_VALIDATORS: dict[str, jinja2.Template] = {}
# What a validator reads besides its answer: the stdlib table, and a first copy (no recorded answers).
VALIDATOR_CONTEXT = {
    "stdlib_module_names": json.loads(table("stdlib_module_names")),
    "_copier_answers": {},
    "_copier_conf": {"data": {}, "answers_file": ".copier-answers.yml", "defaults": True, "user_defaults": {}},
}


def validator_message(
    env: jinja2.Environment,
    question: str,
    answer: Any,
    data: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> str:
    """A question's validator rendered on its own, with the table it reads: fast enough to be exhaustive.

    `data`: what --data or --data-file gave, raw (copier passes the answer cast to the question's
    type); by default the answer itself, as the user gave it. `context`: other answers and tables
    the validator reads, and an update's recorded answers (`_copier_answers`).
    """
    if question not in _VALIDATORS:
        _VALIDATORS[question] = env.from_string(load_copier_config()[question]["validator"])
    given = {question: answer} if data is None else data
    base = {**VALIDATOR_CONTEXT, "_copier_conf": {**VALIDATOR_CONTEXT["_copier_conf"], "data": given}}
    return _VALIDATORS[question].render(**{**base, **(context or {})}, **{question: answer}).strip()
