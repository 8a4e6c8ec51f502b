"""`make lab` serves JupyterLab with the start page: start the server, request it, stop it."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


@pytest.mark.slow
def test_jupyterlab_serves_the_start_page(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--ServerApp.port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
         "--ServerApp.port_retries=0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"{base}/lab?token={token}")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("JupyterLab did not start: " + server.stderr.read1().decode(errors="replace")[-2000:])
                time.sleep(0.5)
        assert status == 200 and b"JupyterLab" in body
        status, body = _get(f"{base}/api/contents/notebooks/00_start_here.ipynb?token={token}")
        notebook = json.loads(body)
        assert status == 200 and notebook["type"] == "notebook"
        status, body = _get(f"{base}/formgrader?token={token}")
        assert status == 200, "nbgrader's formgrader must be enabled"
    finally:
        server.terminate()
        server.wait(timeout=30)
