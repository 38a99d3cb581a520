"""Every functions/<name>/main.py served under one base URL, at /<name>."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from atende.devstack.functions_app import build_app, discover
from atende.devstack.processes import ManagedProcess, free_port, serve_in_thread, wait_http

ALPHA = """
import functions_framework.aio
from starlette.responses import JSONResponse

from helper import TAG


@functions_framework.aio.http
async def alpha(request):
    body = (await request.body()).decode()
    return JSONResponse({"fn": "alpha", "tag": TAG, "path": request.url.path,
                         "method": request.method, "body": body})
"""

BETA = """
import os

from helper import TAG


def beta(request):
    return {"fn": "beta", "tag": TAG, "path": request.url.path,
            "env": os.environ.get("DEVSTACK_TEST_VAR")}
"""

BROKEN = "raise RuntimeError('boom at import')\n"


def write_functions(root: Path) -> Path:
    for name, source in [("alpha", ALPHA), ("beta", BETA), ("broken", BROKEN)]:
        (root / name).mkdir(parents=True)
        (root / name / "main.py").write_text(source)
        # Same-named helper modules must not leak from one function into another.
        (root / name / "helper.py").write_text(f"TAG = {name!r}\n")
    (root / "_shared").mkdir()
    (root / "_shared" / "main.py").write_text("")
    (root / "README.md").write_text("not a function")
    return root


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    functions_dir = write_functions(tmp_path_factory.mktemp("functions"))
    saved_path = list(sys.path)
    with pytest.MonkeyPatch.context() as patch:
        # Loading sets FUNCTION_TARGET and FUNCTION_SIGNATURE_TYPE; undo them afterwards.
        for name in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE"):
            patch.setenv(name, "")
        patch.setenv("DEVSTACK_TEST_VAR", "hello")
        try:
            with serve_in_thread(build_app(functions_dir)) as url:
                yield url
        finally:
            sys.path[:] = saved_path


def test_discover_finds_function_folders_only(tmp_path: Path) -> None:
    assert discover(write_functions(tmp_path)) == ["alpha", "beta", "broken"]
    assert discover(tmp_path / "missing") == []


def test_each_function_answers_at_its_own_path(base_url: str) -> None:
    with requests.Session() as http:
        alpha = http.post(f"{base_url}/alpha", data=b"payload", timeout=10)
        beta = http.get(f"{base_url}/beta", timeout=10)
    assert alpha.status_code == 200, alpha.text
    assert alpha.json() == {
        "fn": "alpha",
        "tag": "alpha",
        "path": "/alpha/",
        "method": "POST",
        "body": "payload",
    }
    assert beta.status_code == 200, beta.text
    assert beta.json() == {"fn": "beta", "tag": "beta", "path": "/beta/", "env": "hello"}


def test_subpaths_and_query_reach_the_function_without_redirects(base_url: str) -> None:
    with requests.Session() as http:
        response = http.get(f"{base_url}/alpha/x/y?hub.mode=subscribe", timeout=10,
                            allow_redirects=False)  # fmt: skip
        root = http.post(f"{base_url}/beta", timeout=10, allow_redirects=False)
    assert response.status_code == 200
    assert response.json()["path"] == "/alpha/x/y"
    assert root.status_code == 200


def test_unknown_path_is_404_and_a_broken_function_is_500_with_its_error(base_url: str) -> None:
    with requests.Session() as http:
        assert http.get(f"{base_url}/nope", timeout=10).status_code == 404
        assert http.get(f"{base_url}/_shared", timeout=10).status_code == 404
        broken = http.post(f"{base_url}/broken", timeout=10)
        health = http.get(f"{base_url}/_health", timeout=10).json()
    assert broken.status_code == 500
    assert "boom at import" in broken.text
    assert health["functions"] == ["alpha", "beta"]
    assert health["status"] == "degraded"
    assert "boom at import" in health["failed"]["broken"]


def test_runs_as_a_module_on_loopback(tmp_path: Path) -> None:
    functions_dir = write_functions(tmp_path / "functions")
    port = free_port()
    argv = [sys.executable, "-m", "atende.devstack.functions_app", "--port", str(port),
            "--functions-dir", str(functions_dir)]  # fmt: skip
    with ManagedProcess("functions", argv, dict(os.environ), tmp_path / "f.log") as process:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_health", 30, process)
        with requests.Session() as http:
            assert http.get(f"{url}/_health", timeout=10).json()["functions"] == ["alpha", "beta"]
            assert http.post(f"{url}/alpha", data=b"x", timeout=10).json()["tag"] == "alpha"
