"""The generated publish.yml: trigger, job graph, permissions, uploads and the verify jobs, and
RELEASING.md against it (the trusted-publisher form, troubleshooting, TestPyPI on or off).

Rendering only, over scenarios.workflow_cases. The common hardening of every workflow, ci.yml and
dependabot.yml are tests/test_workflows.py; the scripts the jobs run have their own modules.
"""

from __future__ import annotations

import re
import tomllib
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from scenarios import workflow_cases
from support.config import TEMPLATE_ROOT, table
from support.workflows import Rendered, action_repo, load_yaml, render_workflow_case, steps

SCRIPTS = TEMPLATE_ROOT / "template" / ".github" / "scripts"
CHECK_SCRIPT = SCRIPTS / "check_release_version.py"
VERIFY_SCRIPT = SCRIPTS / "verify_upload.py"
ACTIONS = table("actions")
PUBLISH_ACTION = ACTIONS["pypi-publish"]["repo"]
PYPI = {"name": "pypi", "url": "https://pypi.org/p/{name}", "upload": None}
TESTPYPI = {"name": "testpypi", "url": "https://test.pypi.org/p/{name}", "upload": "https://test.pypi.org/legacy/"}


@pytest.fixture(scope="module", params=workflow_cases())
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render_workflow_case(request.param)


def publish_jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: job for name, job in workflow["jobs"].items() if any(action_repo(s) == PUBLISH_ACTION for s in steps(job))
    }


def indexes(answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The indexes a project publishes to, in upload order."""
    chosen = [TESTPYPI, PYPI] if answers["use_testpypi"] else [PYPI]
    return [{**index, "url": index["url"].format(name=answers["project_name"])} for index in chosen]


# --- publish.yml: trigger, job graph, permissions --------------------------------------------


def test_publish_runs_on_published_release_with_no_default_permissions(rendered: Rendered) -> None:
    publish = rendered.workflow("publish.yml")
    assert publish["on"] == {"release": {"types": ["published"]}}
    assert publish["permissions"] == {}


def concurrency_group(workflow: dict[str, Any], ref: str) -> str:
    """The group GitHub computes for a run of `workflow` on `ref` (the only expression it may use)."""
    return workflow["concurrency"]["group"].replace("${{ github.ref }}", ref)


def test_publish_never_cancels_a_release(rendered: Rendered) -> None:
    """One group per release tag: a third release cannot cancel a pending second one.

    In one shared group GitHub keeps a single pending run and cancels it when the next arrives;
    `queue: max` would keep them all, but actionlint refuses the key (docs/decisions.md).
    """
    publish = rendered.workflow("publish.yml")
    concurrency = publish["concurrency"]
    assert set(concurrency) == {"group", "cancel-in-progress"}
    assert concurrency["cancel-in-progress"] is False
    assert "${{" not in concurrency["group"].replace("${{ github.ref }}", "")
    groups = {concurrency_group(publish, f"refs/tags/v1.0.{n}") for n in range(3)}
    assert len(groups) == 3  # three releases, three groups: none waits as "pending" behind another
    # A re-published release (same tag) shares its group and waits for the run in progress.
    assert concurrency_group(publish, "refs/tags/v1.0.0") in groups


def test_publish_job_graph(rendered: Rendered) -> None:
    jobs = rendered.workflow("publish.yml")["jobs"]
    # An extension: the sdist once, every platform's wheels from it, then `build` gathers and checks
    # them all; after each upload, the install on every other runner its wheels target.
    extension = rendered.answers["project_kind"] == "extension"
    first = ["sdist", "wheels", "build"] if extension else ["build"]
    platforms = lambda index: [f"verify-{index}-platforms"] if extension else []
    if rendered.answers["use_testpypi"]:
        assert list(jobs) == [
            *first, "publish-testpypi", "verify-testpypi", *platforms("testpypi"), "publish-pypi", "verify-pypi",
            *platforms("pypi"),
        ]  # fmt: skip
        assert jobs["publish-testpypi"]["needs"] == ["build"]
        assert jobs["verify-testpypi"]["needs"] == ["build", "publish-testpypi"]
        # PyPI is reached only after TestPyPI accepted the files and they installed from there.
        assert jobs["publish-pypi"]["needs"] == ["build", "publish-testpypi", "verify-testpypi", *platforms("testpypi")]
    else:
        assert list(jobs) == [*first, "publish-pypi", "verify-pypi", *platforms("pypi")]
        assert jobs["publish-pypi"]["needs"] == ["build"]
    # After the PyPI upload: the served files, their provenance and an install from PyPI.
    assert jobs["verify-pypi"]["needs"] == ["build", "publish-pypi"]
    for index in ("testpypi", "pypi") if extension else ():
        if f"publish-{index}" in jobs:
            assert jobs[f"verify-{index}-platforms"]["needs"] == ["build", f"publish-{index}"]
    if extension:
        assert "needs" not in jobs["sdist"]
        assert jobs["wheels"]["needs"] == ["sdist"]
        assert jobs["build"]["needs"] == ["sdist", "wheels"]
    else:
        assert "needs" not in jobs["build"]
    assert not [name for name, job in jobs.items() if "if" in job], "no job may be skipped silently"


def test_publish_environments_and_urls(rendered: Rendered) -> None:
    publishing = publish_jobs(rendered.workflow("publish.yml"))
    expected = indexes(rendered.answers)
    assert [job["environment"] for job in publishing.values()] == [
        {"name": i["name"], "url": i["url"]} for i in expected
    ]


def test_id_token_only_on_publishing_jobs(rendered: Rendered) -> None:
    """Trusted publishing needs `id-token: write`; granting it anywhere else only widens exposure."""
    for path in rendered.workflow_files():
        workflow = load_yaml(path)
        assert workflow["permissions"] == {}, path.name
        publishing = publish_jobs(workflow)
        for name, job in workflow["jobs"].items():
            permissions = job["permissions"]  # every job states its own
            if name in publishing:
                assert permissions == {"id-token": "write"}, (path.name, name)
            elif "actions/deploy-pages" in [action_repo(step) for step in steps(job)]:
                # docs.yml's deployment to GitHub Pages proves where the site comes from with the same token.
                assert (path.name, permissions) == ("docs.yml", {"pages": "write", "id-token": "write"}), name
            else:
                assert "id-token" not in permissions, (path.name, name)
                assert set(permissions.values()) <= {"read"}, (path.name, name)
    assert len(publish_jobs(rendered.workflow("publish.yml"))) == len(indexes(rendered.answers))


def test_publish_jobs_only_download_and_upload(rendered: Rendered) -> None:
    """The same artifact goes everywhere: no checkout, no build, one upload per job (PEP 740)."""
    for name, job in publish_jobs(rendered.workflow("publish.yml")).items():
        assert [action_repo(s) for s in steps(job)] == [ACTIONS["download-artifact"]["repo"], PUBLISH_ACTION], name
        assert not [s for s in steps(job) if "run" in s], name
        assert steps(job)[0]["with"] == {"name": "dist", "path": "dist/"}
        assert job["runs-on"] == "ubuntu-latest"  # the action is a container action: Linux only
        assert "container" not in job


def test_upload_inputs_per_index(rendered: Rendered) -> None:
    publishing = publish_jobs(rendered.workflow("publish.yml"))
    for job, index in zip(publishing.values(), indexes(rendered.answers), strict=True):
        upload = steps(job)[-1].get("with", {})
        if index["upload"]:
            # A re-run must not fail on files TestPyPI already has.
            assert upload == {"repository-url": index["upload"], "skip-existing": True}
        else:
            # PyPI: default URL, fails loudly on duplicates, attestations on, no password.
            assert upload == {}


# An extension's build job gathers the wheels cibuildwheel built: tests/test_wheels_workflow.py.
PURE_CASES = [case for case in workflow_cases() if case.values[0][1].get("project_kind") != "extension"]


@pytest.mark.parametrize("case", PURE_CASES)
def test_build_job_checks_everything_before_upload(case: tuple[str, dict[str, Any]]) -> None:
    rendered = render_workflow_case(case)
    build = rendered.workflow("publish.yml")["jobs"]["build"]
    assert build["permissions"] == {"contents": "read"}
    checkout, *rest = steps(build)
    assert action_repo(checkout) == ACTIONS["checkout"]["repo"]
    # version_source git-tag: the build reads the version from the tag, so it needs every commit and tag.
    full = {"fetch-depth": 0} if rendered.answers["version_source"] == "git-tag" else {}
    assert checkout["with"] == {"persist-credentials": False, **full}
    runs = [s["run"] for s in rest if "run" in s]
    tools = "python -m pip install " + " ".join(f'"{r}"' for r in table("release_tools"))
    assert any(tools in r.splitlines() for r in runs)
    assert any(r.startswith("twine>=7") for r in table("release_tools"))  # reads Metadata 2.5
    order = [
        "python -m build",
        "python -m twine check --strict dist/*",
        "check-wheel-contents ",
        "python .github/scripts/check_release_version.py",
    ]
    positions = [next(i for i, r in enumerate(runs) if r.startswith(needle)) for needle in order]
    assert positions == sorted(positions)
    if rendered.answers["project_kind"] == "library":
        name = rendered.answers["import_name"]
        assert f"check-wheel-contents --package src/{name} --toplevel {name} dist/*.whl" in runs
    else:
        assert "check-wheel-contents --ignore W007,W008 dist/*.whl" in runs
    (guard,) = [s for s in rest if "check_release_version.py" in s.get("run", "")]
    assert guard["env"] == {"RELEASE_TAG": "${{ github.event.release.tag_name }}"}
    assert guard["run"] == 'python .github/scripts/check_release_version.py --tag "${RELEASE_TAG}" --dist dist'
    assert build["outputs"] == {"version": f"${{{{ steps.{guard['id']}.outputs.version }}}}"}
    uploads = [s for s in rest if action_repo(s) == ACTIONS["upload-artifact"]["repo"]]
    assert uploads[0]["with"] == {"name": "dist", "path": "dist/", "if-no-files-found": "error"}
    assert rest.index(uploads[0]) > rest.index(guard)
    for upload in uploads[1:]:
        assert (rendered.project / upload["with"]["path"]).is_file(), upload
    for upload in uploads:
        # upload-artifact (v4.4+) silently drops anything under a dot-folder unless told otherwise.
        hidden = any(part.startswith(".") for part in Path(upload["with"]["path"]).parts)
        assert upload["with"].get("include-hidden-files", False) is hidden, upload
    assert (rendered.project / ".github/scripts/check_release_version.py").read_bytes() == CHECK_SCRIPT.read_bytes()


def verify_jobs(answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{verify job: the index whose upload it checks}, in the order they run."""
    return {f"verify-{index['name']}": index for index in indexes(answers)}


def test_verify_jobs_check_each_upload_without_trusting_the_index(rendered: Rendered) -> None:
    """Each upload is checked where it landed: no token, no checkout, the built files to compare."""
    jobs = rendered.workflow("publish.yml")["jobs"]
    assert (rendered.project / ".github/scripts/verify_upload.py").read_bytes() == VERIFY_SCRIPT.read_bytes()
    assert not (rendered.project / ".github/scripts/install_from_index.py").exists()
    verifying = verify_jobs(rendered.answers)
    extension = rendered.answers["project_kind"] == "extension"
    # An extension's installs on the other platforms: tests/test_wheels_workflow.py.
    assert [name for name in jobs if name.startswith("verify-") and not name.endswith("-platforms")] == list(verifying)
    (scripts,) = [s for s in steps(jobs["build"]) if s.get("with", {}).get("name") == "release-scripts"]
    assert scripts["with"]["path"] == ".github/scripts/verify_upload.py"
    for name, index in verifying.items():
        verify = jobs[name]
        assert verify["permissions"] == {}, name
        assert "environment" not in verify, name
        assert ACTIONS["checkout"]["repo"] not in [action_repo(s) for s in steps(verify)], name
        downloads = {
            s["with"]["name"]: s["with"]["path"]
            for s in steps(verify)
            if action_repo(s) == ACTIONS["download-artifact"]["repo"]
        }
        tests = {"release-tests": "release-tests/"} if extension else {}
        assert downloads == {"dist": "dist/", "release-scripts": "release-scripts/", **tests}, name
        install_tools, check = [s for s in steps(verify) if "run" in s]
        assert install_tools["run"] == "python -m pip install " + " ".join(f'"{r}"' for r in table("verify_tools"))
        assert check["env"] == {
            "VERSION": "${{ needs.build.outputs.version }}",
            "REPOSITORY": "${{ github.repository }}",
        }
        args = check["run"].split()
        assert args[:2] == ["python", f"{downloads['release-scripts']}verify_upload.py"]
        if extension:  # the tests, and what they need, as [tool.cibuildwheel] runs them on each wheel
            pyproject = tomllib.loads(rendered.text("pyproject.toml"))
            requires = pyproject["tool"]["cibuildwheel"]["test-requires"]
            assert requires == pyproject["dependency-groups"]["test"]
            assert [args[i + 1] for i, a in enumerate(args) if a == "--test-requirement"] == [
                f'"{r}"' for r in requires
            ]
            args = [a for i, a in enumerate(args) if "--test-requirement" not in args[i - 1 : i + 1]]
        options = dict(zip(args[2::2], args[3::2], strict=True))
        expected = {
            "--index-url": f"{index['url'].split('/p/')[0]}/simple/",
            "--deps-index-url": "https://pypi.org/simple/",
            "--project": rendered.answers["project_name"],
            "--version": '"${VERSION}"',
            "--dist": downloads["dist"].rstrip("/"),
            # The provenance must name this repository, this file and the uploading job's environment.
            "--repository": '"${REPOSITORY}"',
            "--workflow": "publish.yml",
            "--environment": index["name"],
        }
        if rendered.answers["project_kind"] != "meta-package":
            expected["--import"] = rendered.answers["import_name"]
            if rendered.answers["command_name"]:  # the installed command runs, in every gate
                expected["--command"] = rendered.answers["command_name"]
        elif rendered.answers["extras"]:
            expected["--extra"] = "all"  # every extra must resolve, in every gate
        if extension:
            expected["--tests"] = downloads["release-tests"].rstrip("/")
        assert options == expected, name
    assert "extra-index-url" not in rendered.text(".github/workflows/publish.yml")


# --- RELEASING.md against publish.yml --------------------------------------------------------


def publisher_table(releasing: str) -> dict[str, dict[str, str]]:
    """{index column: {field: value}} from RELEASING.md's trusted-publisher table."""
    section = releasing.split("### Trusted publishers", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header, _, *body = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[:7]]
    columns: dict[str, dict[str, str]] = {index: {} for index in header[1:]}
    for field, *values in body:
        for index, value in zip(header[1:], values, strict=True):
            columns[index][field] = value.strip("`")
    return columns


def test_releasing_names_what_publish_uses(rendered: Rendered) -> None:
    """The values a user types into PyPI's form are the ones the workflow presents."""
    columns = publisher_table(rendered.text("RELEASING.md"))
    publishing = publish_jobs(rendered.workflow("publish.yml"))
    environments = {job["environment"]["name"]: job["environment"]["url"] for job in publishing.values()}
    host_of = {"PyPI": "https://pypi.org/", "TestPyPI": "https://test.pypi.org/"}
    assert set(columns) == {"PyPI", "TestPyPI"} if rendered.answers["use_testpypi"] else {"PyPI"}
    repository = re.search(
        r'^Repository = "https://github.com/([^/"]+)/([^/"]+)"$', rendered.text("pyproject.toml"), re.MULTILINE
    )
    assert repository
    for index, form in columns.items():
        url = environments[form["Environment name"]]
        assert url == f"{host_of[index]}p/{form['PyPI Project Name']}"
        assert form["Workflow name"] == "publish.yml"
        assert (rendered.github / "workflows/publish.yml").is_file()
        assert (form["Owner"], form["Repository name"]) == repository.groups()
    assert {form["Environment name"] for form in columns.values()} == set(environments)


def publisher_links(releasing: str) -> dict[str, dict[str, list[str]]]:
    """{host: parsed query} of every link to a project's publishing form in RELEASING.md."""
    links = {}
    for url in re.findall(r"<(https://[^>\s]+/settings/publishing/\?[^>\s]+)>", releasing):
        parts = urllib.parse.urlsplit(url)
        assert parts.path.startswith("/manage/project/"), url
        links[parts.hostname or ""] = {
            "project": [urllib.parse.unquote(parts.path.split("/")[3])],
            **urllib.parse.parse_qs(parts.query, strict_parsing=True),
        }
    return links


def test_releasing_links_open_the_publisher_form_filled_in(rendered: Rendered) -> None:
    """PyPI's project publishing page reads these parameters into its GitHub form (warehouse's
    manage_project_oidc_publishers_prefill); each must be the answer, exactly, once encoded."""
    answers = rendered.answers
    environments = {job["environment"]["name"] for job in publish_jobs(rendered.workflow("publish.yml")).values()}
    host_of = {"pypi": "pypi.org", "testpypi": "test.pypi.org"}
    expected = {
        host_of[environment]: {
            "project": [re.sub(r"[-_.]+", "-", answers["project_name"]).lower()],
            "provider": ["github"],
            "owner": [answers["github_owner"]],
            "repository": [answers["repository_name"]],
            "workflow_filename": ["publish.yml"],
            "environment": [environment],
        }
        for environment in environments
    }
    assert publisher_links(rendered.text("RELEASING.md")) == expected


def test_releasing_links_the_project_settings_where_it_is_archived(rendered: Rendered) -> None:
    """The project's settings page on PyPI (Archive project), under the name the publisher links
    use; the section's link to Troubleshooting resolves to a heading of the same file."""
    releasing = rendered.text("RELEASING.md")
    section = releasing.split("\n## Yanking a release, retiring the project\n", 1)[1].split("\n## ", 1)[0]
    (settings,) = re.findall(r"<(https://pypi\.org/manage/project/[^>\s]+)>", section)
    assert (
        settings == f"https://pypi.org/manage/project/{publisher_links(releasing)['pypi.org']['project'][0]}/settings/"
    )
    assert "(#troubleshooting)" in section
    assert "\n## Troubleshooting\n" in releasing


def test_publisher_links_are_decoded_not_read_raw() -> None:
    """The parser decodes what the template encodes: a value with a reserved character survives."""
    text = "<https://pypi.org/manage/project/a/settings/publishing/?provider=github&owner=A%26B&repository=x+y>"
    assert publisher_links(text)["pypi.org"]["owner"] == ["A&B"]
    assert publisher_links(text)["pypi.org"]["repository"] == ["x y"]


REQUIRED_TROUBLESHOOTING = [
    "File already exists",
    "The description failed to render",
    "No matching distribution found",
    "Token request failed",
    "invalid-publisher",
    "This package name is not available",
    "Unexpected files in the wheel",
    "already has a publish attestation",
    "Reusable workflows",
    "'2.5' is not a valid metadata version",
    "local versions",
    "manifest unknown",
    # What verify_upload.py reports: a lagging index, other bytes, a missing or foreign provenance.
    "does not serve",
    "but this run built sha256",
    "which this run did not build",
    "lists no provenance",
    "names the publisher",
    "does not verify",
    # The build jobs' cooldown refuses a build requirement that only a release from this week meets.
    "`No matching distribution found` in `build`",
]


def test_releasing_covers_setup_release_and_troubleshooting(rendered: Rendered) -> None:
    releasing = rendered.text("RELEASING.md")
    headings = re.findall(r"^(#{2,3}) (.+)$", releasing, re.MULTILINE)
    sections = [title for level, title in headings if level == "##"]
    site = ["Documentation site"] if rendered.answers["docs_site"] != "none" else []
    expected = [
        "First-time setup",
        "Cutting a release",
        "Verifying",
        *site,
        "Yanking a release, retiring the project",
        "Troubleshooting",
        "Manual release",
    ]
    assert sections == expected
    troubleshooting = releasing.split("## Troubleshooting", 1)[1].split("## Manual release", 1)[0]
    missing = [entry for entry in REQUIRED_TROUBLESHOOTING if entry not in troubleshooting]
    assert not missing
    # version_source git-tag: no version-bump commit, the tag is the version.
    bump = "git add CHANGELOG.md" if rendered.answers["version_source"] == "git-tag" else 'version = "X.Y.Z"'
    for command in ("gh release create v", "gh run watch", bump, "git tag -a v"):
        assert command in releasing
    for environment in {"pypi", "testpypi"} if rendered.answers["use_testpypi"] else {"pypi"}:
        assert f"/environments/{environment}" in releasing
    assert "Required reviewers" in releasing
    assert "`v*`" in releasing


def test_testpypi_off_drops_it_everywhere(rendered: Rendered) -> None:
    # Manual release is another path (its own .pypirc sections); this checks the automated one.
    generated = {
        "RELEASING.md": rendered.text("RELEASING.md").split("## Manual release", 1)[0],
        **{p.name: p.read_text(encoding="utf-8") for p in rendered.workflow_files()},
    }
    mentions = {
        name: bool(re.search("testpypi|test.pypi.org", text, re.IGNORECASE)) for name, text in generated.items()
    }
    if rendered.answers["use_testpypi"]:
        assert mentions["RELEASING.md"]
        assert mentions["publish.yml"]
    else:
        assert not any(mentions.values()), mentions
