"""Renovate: the renovate.json a generated project gets, this repository's own bot configuration,
and Renovate itself (npm's renovate on npm's Node 24, cached per machine) run with
`--platform=local`: extraction and lookups only, offline, nothing pushed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown.extensions.toc import slugify  # how mkdocs names a heading's anchor
from packaging.version import Version

from scenarios import FLEET_RELEASES, fleet_copy, released_template
from support.clients import install_renovate
from support.config import ACTIONS_TABLE, FLEET_WORKFLOW, TEMPLATE_ROOT, copier_config_at, table
from support.proc import commit_new_repo, git
from support.releases import changelog_sections, release_tags
from support.render import copy_template_tree, list_files, render_once
from support.renovate import config_problems, package_files, run_renovate, schema_check
from support.urls import TEMPLATE_URL, git_config_with_urls

BOT_CONFIG = TEMPLATE_ROOT / ".github" / "renovate.json"
CHANGELOG = TEMPLATE_ROOT / "docs" / "changelog.md"


def keys(data: Any) -> set[str]:
    """Every key at any depth of a JSON document."""
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys(v)}
    return set()


# --- The renovate.json a project gets ------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> Path:
    return render_once("build-defaults", {})  # the render matrix's defaults, shared


def test_generated_config_passes_renovates_schema(project: Path) -> None:
    assert schema_check(project / "renovate.json") == (0, "ok -- validation done\n")


def test_generated_config_asks_for_template_updates_only(project: Path) -> None:
    config = json.loads((project / "renovate.json").read_text(encoding="utf-8"))
    # Renovate proposes template releases; Dependabot keeps actions and pip (dependabot.yml).
    assert config["enabledManagers"] == ["copier"]
    assert config["labels"]
    (rule,) = config["packageRules"]
    assert rule["matchManagers"] == ["copier"]
    assert any("/docs/changelog.md#" in note for note in rule["prBodyNotes"])
    # Git tags carry no dates: a minimum release age would hold every template release forever.
    assert "minimumReleaseAge" not in keys(config)
    assert "extends" not in config  # no preset can bring one (or other managers) back in


def test_schema_check_is_live(tmp_path: Path) -> None:
    bad = tmp_path / "renovate.json"
    bad.write_text(json.dumps({"enabledManagers": "copier", "labels": "x"}), encoding="utf-8")
    code, output = schema_check(bad)
    assert code == 1, output
    assert "enabledManagers" in output, output


def test_use_renovate_false_leaves_only_the_config_out(project: Path) -> None:
    without = render_once("renovate-off", {"use_renovate": False})
    assert list_files(project) - list_files(without) == {"renovate.json"}
    assert list_files(without) <= list_files(project)
    for name in list_files(without) - {".copier-answers.yml"}:
        assert (without / name).read_bytes() == (project / name).read_bytes(), name


# --- This repository's own bot configuration, and the changelog it feeds -------------------


def test_bot_config_passes_renovates_schema() -> None:
    assert schema_check(BOT_CONFIG) == (0, "ok -- validation done\n")


def pins_named(section: str) -> dict[str, str]:
    """{action repository: version} from a section's `- Action pins:` item."""
    (item,) = re.findall(r"^- Action pins[^:]*:((?:.|\n  )*)", section, flags=re.MULTILINE)
    return dict(re.findall(r"`([\w.-]+/[\w.-]+)` (v\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?)", item))


def moved_pins(before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """{repository: new version} of every action whose commit or version a release changed."""
    old = {pin["repo"]: (pin["sha"], pin["version"]) for pin in before.values()}
    return {
        pin["repo"]: pin["version"] for pin in after.values() if old.get(pin["repo"]) != (pin["sha"], pin["version"])
    }


def actions_at(tag: str) -> dict[str, Any]:
    return copier_config_at(TEMPLATE_ROOT, tag)["actions"]["default"]


def previous_release(tags: dict[Version, str], version: Version) -> Version | None:
    """The final release before `version`: a section covers everything since it, release candidates
    (rings, docs/updating.md) included, which have no sections of their own."""
    return max((v for v in tags if v < version and not v.is_prerelease), default=None)


def test_a_release_after_its_candidate_is_compared_with_the_previous_final_release() -> None:
    tags = {Version(tag): tag for tag in ("v1.0.0", "v1.1.0rc1", "v1.1.0", "v1.2.0rc1")}
    assert previous_release(tags, Version("1.1.0")) == Version("1.0.0")
    assert previous_release(tags, Version("1.2.0")) == Version("1.1.0")
    assert previous_release(tags, Version("1.0.0")) is None


def test_changelog_names_the_pins_each_release_moved() -> None:
    """Projects read which action pins an update brings; the bot moves them in the actions table."""
    sections = changelog_sections(TEMPLATE_ROOT)
    tags = {Version(tag): tag for tag in release_tags(TEMPLATE_ROOT)}
    newest = max(sections)
    for version, section in sections.items():
        earlier = previous_release(tags, version)
        before = actions_at(tags[earlier]) if earlier else {}
        after = actions_at(tags[version]) if version in tags else table("actions")
        if version == newest and version in tags:  # pins moved since the last release need a section
            assert actions_at(tags[version]) == table("actions"), (
                f"the actions table moved pins after {version}: add a section"
            )
        assert pins_named(section) == moved_pins(before, after), version


def test_pin_check_catches_a_moved_pin_the_changelog_omits() -> None:
    moved = {name: dict(pin) for name, pin in table("actions").items()}
    moved["checkout"]["sha"] = "0" * 40
    assert moved_pins(table("actions"), moved) == {"actions/checkout": table("actions")["checkout"]["version"]}
    assert pins_named("- Action pins: `actions/checkout` v9.0.0, `a/b` v1.0.0.\n") == {
        "actions/checkout": "v9.0.0",
        "a/b": "v1.0.0",
    }


# --- Renovate itself ---------------------------------------------------------------------------


@pytest.mark.client
def test_renovate_finds_template_releases_through_urls_only(tmp_path: Path, run_gitconfig: Path) -> None:
    """A project at v1.0.0: Renovate proposes v1.1.0 for a git+file:// or https source, none for `gh:`."""
    project = shutil.copytree(fleet_copy("lib-setuptools", {}), tmp_path / "project", symlinks=True)
    answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    source = f"git+file://{released_template()}"
    for variant, url in {"https": TEMPLATE_URL, "gh": "gh:ORG/pypi-template"}.items():
        folder = project / "variants" / variant
        folder.mkdir(parents=True)
        (folder / ".copier-answers.yml").write_text(
            answers.replace(f"_src_path: {source}", f"_src_path: {url}"), encoding="utf-8"
        )
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "the same project, recorded with other sources")
    home = tmp_path / "home"
    home.mkdir()
    git_config_with_urls(home / ".gitconfig", {TEMPLATE_URL: released_template()}, base=run_gitconfig)

    records = run_renovate(project, home)
    found = package_files(records)
    # The project's renovate.json confines Renovate to its copier manager (pyproject, workflows untouched).
    assert set(found) == {("copier", ".copier-answers.yml"), ("copier", "variants/https/.copier-answers.yml"),
                          ("copier", "variants/gh/.copier-answers.yml")}  # fmt: skip
    assert not config_problems(records)
    (local,) = found["copier", ".copier-answers.yml"]
    (https,) = found["copier", "variants/https/.copier-answers.yml"]
    (shortcut,) = found["copier", "variants/gh/.copier-answers.yml"]
    for dep in (local, https):
        assert dep["currentValue"] == FLEET_RELEASES[0]
        assert [u["newValue"] for u in dep["updates"]] == [FLEET_RELEASES[1]], dep
    assert https["sourceUrl"] == TEMPLATE_URL.removesuffix(".git")
    assert (shortcut["depName"], shortcut["updates"]) == ("gh:ORG/pypi-template", [])
    assert [w["message"] for w in shortcut["warnings"]] == [
        "Failed to look up git-tags package gh:ORG/pypi-template: no-result"
    ]


def node_script(script: str, *args: str) -> Any:
    """Run an ES module script against the installed Renovate; returns what it prints as JSON."""
    node, entry = install_renovate()
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script, str(entry.parent), *args],
        capture_output=True, text=True, check=False, env={"PATH": f"{node.parent}:/usr/bin:/bin", "LOG_LEVEL": "fatal"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


COMPILE = """
const [dist, notes, fields] = process.argv.slice(1);
const { compile } = await import(`${dist}/util/template/index.js`);
console.log(JSON.stringify(JSON.parse(notes).map((note) => compile(note, JSON.parse(fields)))));
"""


@pytest.mark.client
def test_pull_request_links_the_release_section_of_the_changelog(project: Path) -> None:
    """Renovate's own template engine renders the note; the anchor is the changelog heading's."""
    (rule,) = json.loads((project / "renovate.json").read_text(encoding="utf-8"))["packageRules"]
    release = "v1.1.0"
    fields = {"sourceUrl": "https://github.com/ORG/pypi-template", "newValue": release, "newVersion": release}
    link, check = node_script(COMPILE, json.dumps(rule["prBodyNotes"]), json.dumps(fields))
    anchor = slugify(release.removeprefix("v"), "-")  # `## 1.1.0` in docs/changelog.md; GitHub's anchor too
    assert f"(https://github.com/ORG/pypi-template/blob/{release}/docs/changelog.md#{anchor})" in link
    assert anchor == "110"
    assert "check_template_sync.py" in check
    # A source Renovate cannot link to (a local URL) gets no broken link.
    assert node_script(
        COMPILE, json.dumps(rule["prBodyNotes"][:1]), json.dumps({"newValue": release, "newVersion": release})
    ) == [""]


@pytest.mark.client
def test_renovate_extracts_every_pin_of_this_repository(tmp_path: Path) -> None:
    """The bot configuration moves the actions table (digest and version together) and the workflows."""
    repo = copy_template_tree(tmp_path / "pypi-template")
    commit_new_repo(repo, "this repository")
    home = tmp_path / "home"
    home.mkdir()
    found = package_files(run_renovate(repo, home, lookup=False))  # what it finds, not what it proposes
    assert set(found) == {("regex", ACTIONS_TABLE), ("github-actions", ".github/workflows/tests.yml"),
                          ("github-actions", "fleet/renovate.yml"), ("github-actions", "fleet/status.yml")}  # fmt: skip
    table_pins = {
        (d["depName"], d["currentValue"], d["currentDigest"], d["datasource"]) for d in found["regex", ACTIONS_TABLE]
    }
    assert table_pins == {(a["repo"], a["version"], a["sha"], "github-tags") for a in table("actions").values()}
    for name in (".github/workflows/tests.yml", "fleet/renovate.yml"):
        pinned = re.findall(
            r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\S+)", (repo / name).read_text(encoding="utf-8")
        )
        actions = [d for d in found["github-actions", name] if d.get("depType") == "action"]
        assert {(d["depName"], d["currentDigest"], d["currentValue"]) for d in actions} == set(pinned), name
        assert pinned
    # The fleet's Renovate version is a dependency too: the bot proposes the next one.
    (image,) = [d for d in found["github-actions", "fleet/renovate.yml"] if d.get("datasource") == "docker"]
    assert (
        image["currentValue"]
        == yaml.safe_load(FLEET_WORKFLOW.read_text(encoding="utf-8"))["jobs"]["renovate"]["steps"][1]["with"][
            "renovate-version"
        ]
    )


OPTIONS = """
const [dist] = process.argv.slice(1);
const { getOptions } = await import(`${dist}/config/options/index.js`);
const { getEnvName } = await import(`${dist}/config/options/env.js`);
console.log(JSON.stringify(Object.fromEntries(getOptions().map((o) => [getEnvName(o), o.name]))));
"""


@pytest.mark.client
def test_fleet_workflow_sets_renovate_options_only() -> None:
    """Every RENOVATE_* variable of fleet/renovate.yml is an option of the Renovate it runs."""
    workflow = yaml.safe_load(FLEET_WORKFLOW.read_text(encoding="utf-8"))
    env = workflow["jobs"]["renovate"]["steps"][1]["env"]
    names = node_script(OPTIONS)
    assert not [name for name in env if name not in names and name != "LOG_LEVEL"]
    options = {names[name]: value for name, value in env.items() if name in names}
    assert {k: v for k, v in options.items() if k.startswith(("autodiscover", "allow", "onboard", "require"))} == {
        "autodiscover": "true", "autodiscoverFilter": "${{ github.repository_owner }}/*",
        "autodiscoverTopics": "pypi-template",
        "allowScripts": "false", "onboarding": "false", "requireConfig": "required",
    }  # fmt: skip
    assert "minimumReleaseAge" not in options
