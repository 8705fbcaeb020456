"""A package index on 127.0.0.1 that logs every request (PEP 691 / PEP 503, PyPI's integrity API).

And waiting for a server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def dist_name_version(filename: str) -> tuple[str, str]:
    """(normalised project name, version) of a wheel or sdist file name."""
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    name, version = parse_wheel_filename(filename)[:2] if filename.endswith(".whl") else parse_sdist_filename(filename)
    return str(name), str(version)


@dataclass
class LocalIndex:
    """A PEP 691 (JSON) / PEP 503 (`#sha256=` links) simple index with PyPI's integrity API.

    Tests put files (`publish`) and provenance objects (`provenance`) in place, then read `log`,
    every path the server was asked for. `json=False` serves only the HTML form.
    """

    url: str
    files: dict[str, bytes]
    provenance: dict[str, bytes]
    log: list[str]
    json: bool = True
    # PEP 700's `upload-time` of a file (ISO 8601), served in the JSON form where one is given.
    upload_times: dict[str, str] = field(default_factory=dict)

    @property
    def simple(self) -> str:
        return f"{self.url}simple/"

    def publish(self, *paths: Path) -> None:
        for path in paths:
            self.files[path.name] = path.read_bytes()

    def project_files(self, project: str) -> list[str]:
        from packaging.utils import canonicalize_name

        return sorted(f for f in self.files if dist_name_version(f)[0] == canonicalize_name(project))


def _index_handler(index: LocalIndex) -> type[Any]:
    import http.server
    import urllib.parse

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urllib.parse.unquote(self.path.split("?", 1)[0])
            index.log.append(path)
            parts = [p for p in path.split("/") if p]
            if len(parts) == 2 and parts[0] == "simple":
                return self.simple_page(parts[1])
            if len(parts) == 2 and parts[0] == "files" and parts[1] in index.files:
                return self.send(200, index.files[parts[1]], "application/octet-stream")
            if len(parts) == 5 and parts[0] == "integrity" and parts[4] == "provenance":
                if parts[3] in index.provenance:
                    return self.send(200, index.provenance[parts[3]], "application/vnd.pypi.integrity.v1+json")
                body = json.dumps({"message": f"No provenance available for {parts[3]}"}).encode()
                return self.send(404, body, "application/json")
            self.send(404, b"not found", "text/plain")

        def do_HEAD(self) -> None:
            """A file's headers alone: uv asks before it downloads (range requests for the metadata)."""
            path = urllib.parse.unquote(self.path.split("?", 1)[0])
            index.log.append(f"HEAD {path}")
            parts = [p for p in path.split("/") if p]
            found = len(parts) == 2 and parts[0] == "files" and parts[1] in index.files
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/octet-stream" if found else "text/plain")
            self.send_header("Content-Length", str(len(index.files[parts[1]])) if found else "0")
            self.end_headers()

        def simple_page(self, project: str) -> None:
            names = index.project_files(project)
            if not names:
                return self.send(404, b"not found", "text/plain")

            def provenance_url(name: str) -> str | None:
                # Where PyPI's integrity API serves it, as PEP 740's `provenance` key names it.
                version = dist_name_version(name)[1]
                return (
                    f"{index.url}integrity/{project}/{version}/{name}/provenance" if name in index.provenance else None
                )

            digests = {n: hashlib.sha256(index.files[n]).hexdigest() for n in names}
            if index.json and SIMPLE_JSON in self.headers.get("Accept", ""):
                files = [{"filename": n, "url": f"../../files/{n}", "hashes": {"sha256": digests[n]},
                          "provenance": provenance_url(n)} for n in names]  # fmt: skip
                for entry in files:
                    if entry["filename"] in index.upload_times:
                        entry["upload-time"] = index.upload_times[entry["filename"]]
                body = json.dumps({"meta": {"api-version": "1.1"}, "name": project, "files": files}).encode()
                return self.send(200, body, SIMPLE_JSON)
            links = "".join(f'<a href="../../files/{n}#sha256={digests[n]}">{n}</a>\n' for n in names)
            self.send(200, f"<!DOCTYPE html><html><body>\n{links}</body></html>".encode(), "text/html")

    return Handler


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(proc: subprocess.Popen[bytes], url: str, budget: float = 30.0, log: Path | None = None) -> None:
    """Poll `url` until it answers 200; fail if the server exits or the budget runs out, with its `log`."""
    import time
    import urllib.request

    def fail(message: str) -> None:
        pytest.fail(message + (f":\n{log.read_text(errors='replace')}" if log else ""))

    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    fail(f"{url} did not answer within {budget:.0f} s")


@contextlib.contextmanager
def serve_index(*, json_api: bool = True) -> Any:
    """A LocalIndex on a free port of 127.0.0.1 for the `with` block; stopped after it."""
    import http.server
    import threading

    index = LocalIndex(url="", files={}, provenance={}, log=[], json=json_api)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _index_handler(index))
    index.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
