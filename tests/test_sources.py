"""Template sources: every project records a `_src_path` that copier and Renovate both resolve.

Copier records the source as typed. Renovate's copier manager cannot resolve copier's `gh:`/`gl:`
shortcuts (renovatebot/renovate#39938), so the answers file, a template of ours, writes them as
the https URL copier expands them to. Offline: git maps those URLs to a local tagged repository
(`url.<local>.insteadOf`, tests/conftest.py's map_git_urls), so the recorded URL is the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from copier._vcs import get_repo  # copier's own shortcut expansion: what it clones (read, never patched)

from scenarios import make_template_repo, released_template
from support.proc import git, setenv
from support.render import load_answers, project_files, render_project
from support.sharing import shared_folder, shared_once
from support.urls import TEMPLATE_URL, git_config_with_urls

GITLAB_URL = "https://gitlab.com/ORG/pypi-template.git"
ANSWERS_TEMPLATE = Path("template", "{{ _copier_conf.answers_file }}.jinja")
# The answers file as copier's own projects write it: the template's before this rewrite.
PLAIN_ANSWERS_TEMPLATE = (
    "# Changes here will be overwritten by Copier; never edit this file by hand: run `copier update`.\n"
    "{{ _copier_answers|to_nice_yaml -}}\n"
)


@pytest.fixture(scope="module")
def repos() -> dict[str, Path]:
    """This template tagged v1.0.0, and the same with copier's plain answers file (also v1.0.0)."""

    def make(plain: Path) -> None:
        make_template_repo(plain, tag=None)
        (plain / ANSWERS_TEMPLATE).write_text(PLAIN_ANSWERS_TEMPLATE, encoding="utf-8")
        git(plain, "commit", "--quiet", "--all", "--allow-empty", "--message", "copier's plain answers file")
        git(plain, "tag", "v1.0.0")

    return {
        "ours": released_template("v1.0.0"),
        "plain": shared_once(shared_folder() / "sources" / "plain-answers", make),
    }


@pytest.fixture
def online(repos: dict[str, Path], map_git_urls: Callable[[dict[str, Path]], Path]) -> dict[str, Path]:
    """GitHub's and GitLab's URLs of the template, served by git from the local repository."""
    map_git_urls({TEMPLATE_URL: repos["ours"], GITLAB_URL: repos["ours"]})
    return repos


@pytest.fixture(scope="module")
def typed_url(repos: dict[str, Path], run_gitconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copied from TEMPLATE_URL as typed: what each shortcut must give, byte for byte."""
    folder = tmp_path_factory.mktemp("typed-url")
    config = git_config_with_urls(folder / "gitconfig", {TEMPLATE_URL: repos["ours"]}, base=run_gitconfig)
    with pytest.MonkeyPatch.context() as mp:
        setenv(mp, "GIT_CONFIG_GLOBAL", str(config))
        setenv(mp, "COPIER_CACHE_DIR", str(folder / "copier-cache"))
        return render_project(folder / "demo-pkg", src=TEMPLATE_URL)


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("gh:ORG/pypi-template", TEMPLATE_URL),
        ("gh:/ORG/pypi-template", TEMPLATE_URL),
        ("gh:ORG/pypi-template.git", TEMPLATE_URL),
        ("gl:ORG/pypi-template", GITLAB_URL),
    ],
    ids=["gh", "gh-slash", "gh-dot-git", "gl"],
)
@pytest.mark.usefixtures("online")
def test_shortcut_is_recorded_as_the_url_copier_clones(
    typed_url: Path, tmp_path: Path, typed: str, recorded: str
) -> None:
    assert get_repo(typed) == recorded  # copier's expansion, so copier and the answers file agree
    project = render_project(tmp_path / "demo-pkg", src=typed)
    answers = load_answers(project)
    assert (answers["_src_path"], answers["_commit"]) == (recorded, "v1.0.0")
    # Everything else is what typing the URL itself gives, byte for byte (GitLab's file names its host).
    expected = project_files(typed_url)
    if recorded == GITLAB_URL:
        expected[".copier-answers.yml"] = expected[".copier-answers.yml"].replace(
            TEMPLATE_URL.encode(), GITLAB_URL.encode()
        )
    assert project_files(project) == expected


@pytest.mark.parametrize(
    "source",
    [TEMPLATE_URL, "git+file://{repo}", "{repo}"],
    ids=["https", "git-file", "absolute-path"],
)
def test_other_sources_are_recorded_as_copier_writes_them(
    repos: dict[str, Path], tmp_path: Path, map_git_urls: Callable[[dict[str, Path]], Path], source: str
) -> None:
    """Only shortcuts are rewritten: otherwise the answers file is copier's plain one, byte for byte."""
    written = {}
    for name, repo in repos.items():
        map_git_urls({TEMPLATE_URL: repo})
        project = render_project(tmp_path / name / "demo-pkg", src=source.format(repo=repo))
        assert load_answers(project)["_src_path"] == source.format(repo=repo)
        written[name] = (project / ".copier-answers.yml").read_text(encoding="utf-8").replace(str(repo), "{repo}")
    assert written["ours"] == written["plain"]
