"""A function bundle is self-contained: installed into a clean virtualenv from nothing but its
own requirements.txt and served by functions-framework from its own folder, it answers.

SLOW (about a minute with a warm pip cache, up to 10 minutes cold): it builds the
`whatsapp_webhook` bundle, creates a fresh virtualenv (no system site packages, no repo on
any path), pip-installs every pinned runtime dependency into it, and serves the bundle the
way Cloud Functions does (`python -m functions_framework --target ... --source main.py` in
ASGI mode: `FUNCTION_USE_ASGI=true`, the `--asgi` flag's variable, as in docs/deploy.md;
functions-framework 3.10.2 also switches to ASGI by itself for `@functions_framework.aio`
functions). A dependency missing from the pins, a module the packaging leaves out, or an
import of the dev-only `atende.devstack` or `atende.cli` from the runtime code fails it.

The virtualenv is made by the interpreter running the tests (3.12 in Cloud Build, like the
python312 runtime), the one whose installed versions `runtime_requirements()` pins.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from atende.devstack.processes import ManagedProcess, free_port, wait_http
from atende.packaging import REPO_ROOT, build_bundle, runtime_requirements

FUNCTION = "whatsapp_webhook"
VERIFY_TOKEN = "t"
APP_SECRET = "s"
INSTALL_TIMEOUT = 600.0
START_TIMEOUT = 60.0
# What the interpreters we start must not inherit: they would see other code than the bundle's.
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")


def _clean_environ() -> dict[str, str]:
    """This environment (pip's index and certificate settings) without Python path leaks."""
    return {key: value for key, value in os.environ.items() if key not in _LEAKY}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(FUNCTION, tmp_path_factory.mktemp("build"), runtime_requirements())


@pytest.fixture(scope="module")
def venv_python(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the bundle's requirements.txt installed, and nothing else."""
    venv = tmp_path_factory.mktemp("bundle-venv") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, env=_clean_environ(), timeout=120
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
         "-r", "requirements.txt"],
        check=True,
        cwd=bundle,
        env=_clean_environ(),
        timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    return python


@pytest.fixture(scope="module")
def served(
    bundle: Path, venv_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The bundle served from its own folder by the clean virtualenv; yields its URL."""
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    env = {
        "PATH": f"{venv_python.parent}{os.pathsep}{os.defpath}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "FUNCTION_USE_ASGI": "true",
        "ATENDE_SECRETS_BACKEND": "env",
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "ATENDE_WHATSAPP_TENANTS": "{}",
    }
    argv = [
        str(venv_python), "-m", "functions_framework", "--target", FUNCTION,
        "--source", "main.py", "--port", str(port), "--host", "127.0.0.1",
    ]  # fmt: skip
    server = ManagedProcess(FUNCTION, argv, env, home / "server.log", cwd=bundle)
    with server:
        url = f"http://127.0.0.1:{port}/"
        wait_http(url, START_TIMEOUT, process=server)
        yield url


def test_the_clean_virtualenv_sees_the_bundle_s_atende_and_no_other(
    bundle: Path, venv_python: Path
) -> None:
    config = (venv_python.parent.parent / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config
    probe = "import atende, sys; print(atende.__file__)"
    found = subprocess.run(
        [str(venv_python), "-c", probe],
        cwd=bundle,
        env=_clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(found.stdout.strip()).resolve() == (bundle / "atende" / "__init__.py").resolve()
    # Outside the bundle, atende is not importable: nothing installed it into the venv.
    elsewhere = subprocess.run(
        [str(venv_python), "-c", probe],
        cwd=bundle.parent,
        env=_clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert elsewhere.returncode != 0 and "ModuleNotFoundError" in elsewhere.stderr
    assert not (bundle / "atende" / "devstack").exists()


def test_the_handshake_answers_the_challenge_for_the_right_token_only(served: str) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    ok = requests.get(served, params=query, timeout=10)
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = requests.get(served, params={**query, "hub.verify_token": "nope"}, timeout=10)
    assert wrong.status_code == 403
    assert "1158201444" not in wrong.text


def _signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_delivery_with_a_bad_signature_is_refused(served: str) -> None:
    body = (REPO_ROOT / "tests" / "data" / "whatsapp" / "message_text.json").read_bytes()
    headers = {"Content-Type": "application/json"}
    forged = requests.post(
        served,
        data=body,
        headers={**headers, "X-Hub-Signature-256": _signature(body, "not-the-secret")},
        timeout=10,
    )
    assert forged.status_code == 401
    unsigned = requests.post(served, data=body, headers=headers, timeout=10)
    assert unsigned.status_code == 401


def test_a_correctly_signed_delivery_for_an_unknown_number_is_acknowledged(served: str) -> None:
    """The whole verify → parse path runs from the bundle (no tenant maps this number, so
    nothing is enqueued and no Google API is called)."""
    body = (REPO_ROOT / "tests" / "data" / "whatsapp" / "message_text.json").read_bytes()
    assert json.loads(body)["object"] == "whatsapp_business_account"
    signed = requests.post(
        served,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": _signature(body, APP_SECRET),
        },
        timeout=10,
    )
    assert signed.status_code == 200, signed.text
