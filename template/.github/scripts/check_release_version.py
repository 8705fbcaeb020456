#!/usr/bin/env python3
"""Refuse a release whose tag and project version disagree, before anything is uploaded.

The publish workflow runs it once, after the build, with `--tag` and `--dist`: it checks
pyproject.toml and the built sdist and wheel (a backend may normalise or compute the version). A
tag is `v1.2.3` (the pypi environment deploys `v*` tags only); the version must be spelled exactly
like the tag, canonically (as PyPI shows it: `1.0.0rc1`, not `1.0.0-rc1`) and carry no `+local`
part, which PyPI and TestPyPI refuse. ci.yml runs it without `--tag` on every push, so a version
that could not be released shows long before the release.

Standard library only (Python 3.10 and later; on 3.10 it reads TOML with tomli, which `build`
installs there):

    python .github/scripts/check_release_version.py --dist dist
    python .github/scripts/check_release_version.py --tag v1.2.3 --dist dist
"""

from __future__ import annotations

import argparse
import email.parser
import os
import re
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli, which `build` installs there (the workflows install build first)
    try:
        import tomli as tomllib
    except ImportError:  # pyproject_version() says what to install
        tomllib = None  # type: ignore[assignment]

# A canonical PEP 440 public version, the spelling PyPI shows (the rule of the version question in
# pypi-template's copier.yml).
CANONICAL = re.compile(
    r"([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
    r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?"
)
# What reading a damaged sdist or wheel raises (a name, not a tuple: ruff format for Python 3.14+
# would drop the parentheses, which Python 3.10 needs).
BROKEN = (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error)
# A development release: what a version plugin reads from git on a commit after the last tag.
DEV = re.compile(r"[.]dev[0-9]+\Z")


class ReleaseVersionError(Exception):
    """The release must not go ahead; the message says why and how to fix it."""


def version_from_tag(tag: str) -> str:
    """`v1.2.3` names version `1.2.3`."""
    tag = tag.strip()
    if not tag:
        raise ReleaseVersionError(
            "the release tag is empty: publish the release from a tag such as v1.2.3"
        )
    if not tag.startswith("v"):
        # Else TestPyPI would take the release and the pypi environment (v* tags only) stop it.
        raise ReleaseVersionError(
            f"release tag {tag!r} does not start with 'v': the pypi environment deploys v* tags "
            f"only (RELEASING.md). Delete the release and the tag, and publish it from tag "
            f"'v{tag.lstrip('vV')}'"
        )
    return tag.removeprefix("v")


def pyproject_version(path: Path) -> str | None:
    """`[project] version` from pyproject.toml, or None when the version is declared dynamic."""
    if tomllib is None:
        raise ReleaseVersionError(
            "Python 3.10 reads pyproject.toml with tomli, which is not installed: "
            "pip install build (it brings tomli), or run the script on Python 3.11 or later"
        )
    if not path.is_file():
        raise ReleaseVersionError(
            f"{path} not found: run from the project's root, or give --pyproject"
        )
    with path.open("rb") as fh:
        project = tomllib.load(fh).get("project", {})
    if "version" in project:
        return str(project["version"])
    if "version" in project.get("dynamic", []):
        return None
    raise ReleaseVersionError(f"{path} has no [project] version and does not declare it dynamic")


def dist_versions(dist_dir: Path) -> dict[str, str]:
    """Version field of every sdist and wheel in `dist_dir`, read from their own metadata."""
    versions: dict[str, str] = {}
    if not dist_dir.is_dir():
        raise ReleaseVersionError(f"{dist_dir} is not a folder: build before checking")
    for path in sorted(dist_dir.iterdir()):
        if not path.name.endswith((".whl", ".tar.gz")):
            continue
        try:
            raw = read_metadata(path)
        except BROKEN:
            raw = None
        if raw is None:
            raise ReleaseVersionError(
                f"{path.name} has no single metadata file: it is not a valid distribution"
            )
        versions[path.name] = email.parser.BytesParser().parsebytes(raw, headersonly=True)[
            "Version"
        ]
    if not versions:
        raise ReleaseVersionError(f"{dist_dir} holds no sdist or wheel: build before checking")
    return versions


def read_metadata(path: Path) -> bytes | None:
    """A wheel's METADATA or an sdist's PKG-INFO; None when there is not exactly one."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            names = [
                n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            return zf.read(names[0]) if len(names) == 1 else None
    with tarfile.open(path) as tf:
        members = [
            m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        ]
        fh = tf.extractfile(members[0]) if len(members) == 1 else None
        return fh.read() if fh else None


def check_public(version: str, source: str) -> None:
    if "+" in version:
        raise ReleaseVersionError(
            f"version {version!r} in {source} has a local part ('+...'): PyPI and TestPyPI refuse local "
            "versions; release a public version such as 1.2.3"
        )


def release_version(pyproject: Path, declared: str | None, dist_dir: Path | None) -> str:
    """The one version this release publishes, once every source agrees on its spelling
    (`declared`: pyproject.toml's, None when dynamic)."""
    built = dist_versions(dist_dir) if dist_dir is not None else {}
    for source, found in [(str(pyproject), declared), *built.items()]:
        if found is not None:
            check_public(found, source)
    if declared is None and not built:
        raise ReleaseVersionError(
            f"the version in {pyproject} is dynamic: check the built files with --dist"
        )
    # A dynamic version is what the backend wrote into the first built file.
    source, version = (
        (str(pyproject), declared) if declared is not None else next(iter(built.items()))
    )
    for name, found in built.items():
        if found != version and not CANONICAL.fullmatch(version) and CANONICAL.fullmatch(found):
            raise ReleaseVersionError(
                f"version {version!r} in {source} is not spelled canonically: the built files, and PyPI, "
                f"call it {found!r}. Write version = {found!r} in {source} and tag the release v{found}"
            )
        if found != version:
            raise ReleaseVersionError(
                f"version {found!r} in {name} is not {version!r} from {source}: the build backend "
                "wrote another version; make them agree before releasing"
            )
    if not CANONICAL.fullmatch(version):
        raise ReleaseVersionError(
            f"version {version!r} in {source} is not a canonical PEP 440 public version (as PyPI shows "
            "it: 1.2.3, 1.0.0rc1, 2.0.post1, no 'v' or '-'): spell it canonically and tag it the same"
        )
    return version


def check_tag(tag: str, version: str, pyproject: Path, *, dynamic: bool = False) -> None:
    """Raise unless the release tag names `version` exactly."""
    expected = version_from_tag(tag)
    if version != expected and dynamic and not CANONICAL.fullmatch(expected):
        # The build may have read this very tag, spelled as PyPI never shows it (v1.0.0-rc1).
        advice = (
            "a tag spelled canonically"
            if DEV.search(version)
            else f"tag 'v{version}', the version the build read"
        )
        raise ReleaseVersionError(
            f"release tag {tag!r} is not spelled canonically (as PyPI shows versions: 1.0.0rc1, "
            f"not 1.0.0-rc1) and does not match version {version!r}: delete the release and the "
            f"tag, and publish from {advice}"
        )
    if version != expected and dynamic:
        # The backend's plugin read the version from git: it did not see this tag at the commit.
        raise ReleaseVersionError(
            f"release tag {tag!r} does not match version {version!r} that the build read from git "
            f"({pyproject} declares the version dynamic): a .devN version means the build saw no "
            f"tag {tag!r} on the checked-out commit, or saw uncommitted changes to tracked files. "
            "Check out with fetch-depth: 0 (every commit and tag), commit or stash your changes, "
            "and tag the commit you release"
        )
    if version != expected:
        raise ReleaseVersionError(
            f"release tag {tag!r} does not match version {version!r} in {pyproject}: the tag must be "
            f"'v{version}'. Bump [project] version, or delete the release and tag again"
        )


def check_release(tag: str | None, pyproject: Path, dist_dir: Path | None) -> tuple[str, str]:
    """Check every source the run has; return the version that will be released, and the verdict."""
    declared = pyproject_version(pyproject)
    version = release_version(pyproject, declared, dist_dir)
    if tag is not None:
        check_tag(tag, version, pyproject, dynamic=declared is None)
        return version, f"release tag {tag!r} matches version {version!r}"
    if declared is None and DEV.search(version):
        # The plugin read the version from git between tags: tagging it would release a .devN.
        return version, (
            f"version {version!r} is a development build read from git (no release tag on this "
            "commit): release by tagging the commit vX.Y.Z"
        )
    return version, f"version {version!r} can be released: tag it v{version}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tag", help="the release tag, e.g. v1.2.3 (without it: is the version releasable?)"
    )
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument("--dist", type=Path, help="also check every sdist and wheel in this folder")
    args = parser.parse_args(argv)
    try:
        version, verdict = check_release(args.tag, args.pyproject, args.dist)
    except ReleaseVersionError as exc:
        # `::error::` becomes an annotation on the run's summary page in GitHub Actions.
        prefix = (
            "::error title=Release version::"
            if os.environ.get("GITHUB_ACTIONS") == "true"
            else "error: "
        )
        print(f"{prefix}{exc}", file=sys.stderr)
        return 1
    print(verdict)
    if output := os.environ.get("GITHUB_OUTPUT"):
        with Path(output).open("a", encoding="utf-8") as fh:
            fh.write(f"version={version}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
