"""Renovate itself (tests/support/clients.py installs it) run with `--platform=local`: extraction
and lookups only, offline, nothing pushed; and what its JSON log says."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from check_jsonschema.cli.main_command import main as check_jsonschema
from click.testing import CliRunner

from support.clients import install_renovate


def schema_check(*paths: Path) -> tuple[int, str]:
    """check-jsonschema with the Renovate schema it vendors: (exit code, output)."""
    result = CliRunner().invoke(check_jsonschema, ["--builtin-schema", "vendor.renovate", *map(str, paths)])
    return result.exit_code, result.output


def run_renovate(repo: Path, home: Path, *, lookup: bool = True) -> list[dict[str, Any]]:
    """`renovate --platform=local` in `repo`, as JSON log records (LOG_LEVEL=debug).

    Renovate passes git only an allow-list of variables (HOME, not GIT_CONFIG_GLOBAL): a URL
    mapping for it lives in $HOME/.gitconfig. Without `lookup` it stops after extracting
    (`--dry-run=extract`, whose record of what it found is logged at trace level): no datasource
    is asked, so no time goes to hosts this machine cannot reach. Its caches live under `home`:
    a fresh `home` sees tags made since an earlier run.
    """
    node, entry = install_renovate()
    env = {
        "PATH": f"{node.parent}:/usr/bin:/bin", "HOME": str(home), "LOG_LEVEL": "debug" if lookup else "trace",
        "LOG_FORMAT": "json", "RENOVATE_BASE_DIR": str(home / "renovate"), "GIT_CONFIG_NOSYSTEM": "1",
    }  # fmt: skip
    args = [node, entry, "--platform=local", *([] if lookup else ["--dry-run=extract"])]
    proc = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert records, proc.stdout[-3000:] + proc.stderr[-3000:]
    return records


def package_files(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """{(manager, package file): deps} from Renovate's "packageFiles with updates" record (or, after
    `--dry-run=extract`, its "packageFiles" record)."""
    (config,) = [r["config"] for r in records if r["msg"] in ("packageFiles with updates", "packageFiles")]
    return {(manager, f["packageFile"]): f["deps"] for manager, found in config.items() for f in found}


def config_problems(records: list[dict[str, Any]]) -> list[str]:
    return [
        r["msg"] for r in records if re.search(r"config (validation|error)|invalid config", r["msg"], re.IGNORECASE)
    ]
