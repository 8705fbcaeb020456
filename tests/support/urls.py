"""The template's public URL, served by git from local repositories (`url.<local>.insteadOf`)."""

from __future__ import annotations

from pathlib import Path

# The source every documented `copier copy` uses; tests serve it from local repositories (insteadOf).
TEMPLATE_URL = "https://github.com/ORG/pypi-template.git"


def git_config_with_urls(path: Path, mapping: dict[str, Path], base: Path) -> Path:
    """A git config file at `path`: `base` (the run's own, tests/conftest.py) plus
    `url.<local>.insteadOf <url>` for each entry, so git fetches those URLs from local repositories.

    Projects then record the real URL (`https://github.com/ORG/pypi-template.git`) and every
    clone, `git ls-remote` and update through it stays offline.
    """
    text = f"[include]\n\tpath = {base}\n"
    text += "".join(f'[url "{local}"]\n\tinsteadOf = {url}\n' for url, local in mapping.items())
    path.write_text(text, encoding="utf-8")
    return path
