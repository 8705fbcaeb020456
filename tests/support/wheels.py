"""Platform wheels made from a real wheel by retagging a copy: its file name, WHEEL's Tag and RECORD;
and a wheel holding its metadata alone, for scripts that read only that.

For tests of what picks or installs a wheel by its tags (verify_upload.py on an index serving
several platforms), as `wheel tags` would do (the wheel package is not in the test group); and of
what checks a wheel's files, with files added or replaced as a repair or an edit would.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import zipfile
from collections.abc import Mapping
from pathlib import Path

from support.proc import tool


def host_tag() -> str:
    """A tag this interpreter installs on this machine, a manylinux one where it has them (as PyPI
    serves), e.g. cp311-cp311-manylinux_2_28_x86_64."""
    from packaging.tags import sys_tags

    tags = [t for t in sys_tags() if t.interpreter == t.abi]
    return str(next((t for t in tags if t.platform.startswith("manylinux_2_28")), tags[0]))


def foreign_tags() -> list[str]:
    """Tags of this Python for platforms this machine is not: the other wheels of a release."""
    host = host_tag()
    interpreter = host.split("-")[0]
    machine = "aarch64" if host.endswith("x86_64") else "x86_64"
    platforms = [f"manylinux_2_28_{machine}", "macosx_11_0_arm64", "macosx_10_15_x86_64", "win_amd64"]
    return [f"{interpreter}-{interpreter}-{platform}" for platform in platforms]


def metadata_wheel(dist: Path, name: str, version: str, compression: int = zipfile.ZIP_STORED) -> Path:
    """A wheel of `name` at `version` in `dist` carrying only its METADATA (what the release guard and
    verify_upload.py read before anything else), named as a build names it (`-` as `_`)."""
    dist.mkdir(parents=True, exist_ok=True)
    stem = f"{name.replace('-', '_')}-{version}"
    path = dist / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr(f"{stem}.dist-info/METADATA", f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n")
    return path


def record_row(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def retag(wheel: Path, tag: str, dest: Path, files: Mapping[str, bytes] | None = None) -> Path:
    """A copy of `wheel` in `dest` tagged `tag` (python-abi-platform), with WHEEL and RECORD to match;
    `files` are added or replaced inside it, as a repair adds libraries or a user edits a module."""
    name, version = wheel.name.split("-")[:2]
    target = dest / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        wheel_file = next(n for n in src.namelist() if n.endswith(".dist-info/WHEEL"))
        record_file = wheel_file.rsplit("/", 1)[0] + "/RECORD"
        lines = src.read(wheel_file).decode().splitlines()
        body = "\n".join([*(line for line in lines if not line.startswith("Tag:")), f"Tag: {tag}", ""]).encode()
        body = body.replace(b"Root-Is-Purelib: true", b"Root-Is-Purelib: false")
        changed = {wheel_file: body, **(files or {})}
        record = [
            record_row(row.split(",")[0], changed[row.split(",")[0]]) if row.split(",")[0] in changed else row
            for row in src.read(record_file).decode().splitlines()
        ]
        record += [record_row(n, data) for n, data in changed.items() if n not in src.namelist()]
        changed[record_file] = ("\n".join(record) + "\n").encode()
        for item in src.infolist():
            out.writestr(item, changed.get(item.filename, src.read(item.filename)))
        for added in changed.keys() - set(src.namelist()):
            out.writestr(added, changed[added])
    return target


def run_wheel_check(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A workflow's check-wheel-contents step, as printed, in `cwd` (whose dist/ it reads), with the
    test group's check-wheel-contents first on PATH, as the step's install puts it there."""
    env = {**os.environ, "PATH": f"{Path(tool('check-wheel-contents')).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False)
