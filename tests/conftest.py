"""Isolation every test relies on: no developer settings, a fixed git identity; and the template
with two releases that every update module (test_update*.py) reads; the validators' Jinja environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import jinja2
import pytest

import support.sharing
from scenarios import TemplateRepo, update_template
from support.proc import setenv
from support.urls import git_config_with_urls
from support.validators import validator_env


@pytest.fixture(scope="session", autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty copier settings file and a private git config for the whole run.

    A developer's ~/.config/copier/settings.yml `defaults:` would otherwise change answers,
    and their git config (signing, hooks, default branch) would change what commits do.
    """
    home = tmp_path_factory.mktemp("home")
    settings = home / "copier-settings.yml"
    settings.write_text("{}\n", encoding="utf-8")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Template Tests\n\temail = tests@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n"
        # Throwaway repositories never need housekeeping: no `git maintenance run --auto` after
        # each commit and fetch (about 370 processes a run).
        "[maintenance]\n\tauto = false\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        setenv(mp, "COPIER_SETTINGS_PATH", str(settings))
        setenv(mp, "GIT_CONFIG_GLOBAL", str(gitconfig))
        setenv(mp, "GIT_CONFIG_NOSYSTEM", "1")
        # copier 9.19 mirrors every remote template in ~/.cache/copier, keyed by URL: keep ours apart.
        setenv(mp, "COPIER_CACHE_DIR", str(home / "copier-cache"))
        yield settings


@pytest.fixture(scope="session")
def run_gitconfig(isolated_settings: Path) -> Path:
    """The run's private git config (GIT_CONFIG_GLOBAL): what a config of a test's own includes."""
    return isolated_settings.parent / ".gitconfig"


@pytest.fixture
def map_git_urls(
    run_gitconfig: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[[dict[str, Path]], Path]:
    """Let git fetch these URLs from local repositories for this test (`url.<local>.insteadOf`).

    Extends the run's private git config rather than replacing it; returns the config file.
    """

    calls: list[dict[str, Path]] = []

    def apply(mapping: dict[str, Path]) -> Path:
        calls.append(mapping)  # a later call replaces an earlier one: each includes only the run's config
        config = tmp_path / f"gitconfig-urls-{len(calls)}"
        git_config_with_urls(config, mapping, base=run_gitconfig)
        setenv(monkeypatch, "GIT_CONFIG_GLOBAL", str(config))
        # copier's mirror of a URL must be of the repository the URL now stands for.
        setenv(monkeypatch, "COPIER_CACHE_DIR", str(tmp_path / f"copier-cache-{len(calls)}"))
        return config

    return apply


@pytest.fixture(scope="session", autouse=True)
def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder where the support modules keep what the whole run shares (build environments, builds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(support.sharing, "SHARED_FOLDER", support.sharing.shared_tmp(tmp_path_factory))
        yield support.sharing.SHARED_FOLDER


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test that needs a registry client is slow too (before `-m` deselects: that hook comes later)."""
    if item.get_closest_marker("client") and not item.get_closest_marker("slow"):
        item.add_marker(pytest.mark.slow)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow run first (otherwise in collection order).

    xdist hands out tests in this order: with a 25-s test last, one worker would sit idle while
    the other finishes it; short tests at the end keep both busy.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="module")
def update_repo() -> TemplateRepo:
    """Tag A = this template, tag B = A plus the publish.yml fix, then a release candidate
    (scenarios.update_template: made once per run, whichever module asks first)."""
    return update_template()


@pytest.fixture(scope="session")
def jinja_env() -> jinja2.Environment:
    """copier's kind of Jinja environment, for rendering validators and includes on their own."""
    return validator_env()
