"""What every xdist worker of a run shares: one folder, and results made once whichever worker asks first."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock


def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run shares (pytest's per-run base folder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


# shared_tmp() of this run, set by tests/conftest.py for the support modules, which get no fixture.
SHARED_FOLDER: Path | None = None


def shared_folder() -> Path:
    assert SHARED_FOLDER is not None, "tests/conftest.py sets support.sharing.SHARED_FOLDER for the run"
    return SHARED_FOLDER


def shared_once(root: Path, make: Callable[[Path], object], inputs: Any = None) -> Path:
    """`make(root)` once per test run, whichever xdist worker asks first; returns `root`.

    The others wait on a file lock and reuse the result, which callers only read. A run that
    failed half-way leaves no done marker: the next caller starts again from an empty folder.
    `inputs` (JSON data) is what `make` depends on: a caller asking for the same `root` with other
    inputs fails instead of silently getting the first caller's result.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    done = Path(f"{root}.done")
    recorded = json.dumps(inputs, sort_keys=True)
    with FileLock(f"{root}.lock"):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            make(root)
            done.write_text(recorded, encoding="utf-8")
    assert done.read_text(encoding="utf-8") == recorded, f"{root.name!r} is already made from other inputs"
    return root
