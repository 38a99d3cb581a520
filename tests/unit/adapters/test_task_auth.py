from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

import pytest

from atende.adapters.task_auth import (
    OidcAuthenticator,
    SharedSecretAuthenticator,
    header_value,
)
from atende.errors import ConfigurationError, UnauthorizedCallerError
from atende.ports import TaskAuthenticator

SECRET = "local-task-secret-ç"
AUDIENCE = "https://fn.example/process_inbound"
SERVICE_ACCOUNT = "tasks@atende-dev.iam.gserviceaccount.com"


def reason(excinfo: pytest.ExceptionInfo[UnauthorizedCallerError]) -> str:
    return excinfo.value.code


def test_both_implement_the_port() -> None:
    authenticators: list[TaskAuthenticator] = [
        SharedSecretAuthenticator(SECRET),
        OidcAuthenticator([AUDIENCE], SERVICE_ACCOUNT),
    ]
    assert len(authenticators) == 2


@pytest.mark.parametrize(
    "name", ["x-atende-task-token", "X-Atende-Task-Token", "X-ATENDE-TASK-TOKEN"]
)
def test_shared_secret_accepts_the_header_in_any_case(name: str) -> None:
    SharedSecretAuthenticator(SECRET).authenticate({name: SECRET})


def test_shared_secret_with_framework_header_objects() -> None:
    starlette = pytest.importorskip("starlette.datastructures")
    werkzeug = pytest.importorskip("werkzeug.datastructures")
    authenticator = SharedSecretAuthenticator("s3cret")
    authenticator.authenticate(starlette.Headers({"X-Atende-Task-Token": "s3cret"}))
    authenticator.authenticate(werkzeug.Headers({"X-Atende-Task-Token": "s3cret"}))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "missing_token"),
        ({"x-atende-task-token": ""}, "missing_token"),
        ({"x-atende-task-token": "wrong"}, "wrong_token"),
        ({"x-atende-task-token": SECRET + "x"}, "wrong_token"),
        ({"x-atende-task-token": "não"}, "wrong_token"),
        ({"x-other": SECRET}, "missing_token"),
    ],
)
def test_shared_secret_rejects(headers: dict[str, str], expected: str) -> None:
    with pytest.raises(UnauthorizedCallerError) as raised:
        SharedSecretAuthenticator(SECRET).authenticate(headers)
    assert reason(raised) == expected
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("secret", [None, ""])
def test_shared_secret_fails_closed_without_a_secret(secret: str | None) -> None:
    with pytest.raises(ConfigurationError):
        SharedSecretAuthenticator(secret).authenticate({"x-atende-task-token": ""})


def test_custom_header_name() -> None:
    authenticator = SharedSecretAuthenticator(SECRET, header="X-Custom")
    authenticator.authenticate({"x-custom": SECRET})
    with pytest.raises(UnauthorizedCallerError):
        authenticator.authenticate({"x-atende-task-token": SECRET})


def test_header_value_prefers_exact_then_any_case() -> None:
    headers: Mapping[str, str] = {"Authorization": "a"}
    assert header_value(headers, "authorization") == "a"
    assert header_value(headers, "Authorization") == "a"
    assert header_value(headers, "x-missing") is None


@pytest.mark.parametrize(
    ("audiences", "service_account"),
    [([], SERVICE_ACCOUNT), ([""], SERVICE_ACCOUNT), ([AUDIENCE], None), ([AUDIENCE], " ")],
)
def test_oidc_fails_closed_without_configuration(
    audiences: list[str], service_account: str | None
) -> None:
    authenticator = OidcAuthenticator(audiences, service_account, request_factory=_no_network)
    with pytest.raises(ConfigurationError):
        authenticator.authenticate({"authorization": "Bearer x.y.z"})


def _no_network() -> Any:
    raise AssertionError("no certificates should be fetched")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "missing_token"),
        ({"Authorization": "  "}, "missing_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "not_bearer"),
        ({"Authorization": "Bearer"}, "not_bearer"),
        ({"Authorization": "Bearer   "}, "not_bearer"),
        ({"Authorization": "Token abc.def.ghi"}, "not_bearer"),
    ],
)
def test_oidc_rejects_without_a_bearer_token_before_any_network(
    headers: dict[str, str], expected: str
) -> None:
    authenticator = OidcAuthenticator([AUDIENCE], SERVICE_ACCOUNT, request_factory=_no_network)
    with pytest.raises(UnauthorizedCallerError) as raised:
        authenticator.authenticate(headers)
    assert reason(raised) == expected


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def stripped_token(**overrides: Any) -> str:
    """A token as Cloud Run forwards it after verifying it: signature replaced."""
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": SERVICE_ACCOUNT,
        "email_verified": True,
        "iat": now,
        "exp": now + 300,
        **overrides,
    }
    header = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    return f"{_segment(header)}.{_segment(claims)}.SIGNATURE_REMOVED_BY_GOOGLE"


def test_platform_verified_tokens_are_refused_by_default() -> None:
    authenticator = OidcAuthenticator([AUDIENCE], SERVICE_ACCOUNT, request_factory=_no_network)
    with pytest.raises(UnauthorizedCallerError) as raised:
        authenticator.authenticate({"Authorization": f"Bearer {stripped_token()}"})
    assert reason(raised) == "signature_removed"


def test_platform_verified_tokens_when_enabled_still_have_their_claims_checked() -> None:
    authenticator = OidcAuthenticator(
        [AUDIENCE], SERVICE_ACCOUNT, request_factory=_no_network, accept_platform_verified=True
    )
    authenticator.authenticate({"Authorization": f"Bearer {stripped_token()}"})
    cases: dict[str, dict[str, Any]] = {
        "wrong_audience": {"aud": "https://fn.example/other"},
        "token_expired": {"exp": int(time.time()) - 60},
        "wrong_email": {"email": "someone@example.com"},
        "email_unverified": {"email_verified": False},
        "wrong_issuer": {"iss": "https://evil.example"},
        "malformed_token": {"exp": "soon"},
    }
    for expected, overrides in cases.items():
        with pytest.raises(UnauthorizedCallerError) as raised:
            authenticator.authenticate({"Authorization": f"Bearer {stripped_token(**overrides)}"})
        assert reason(raised) == expected, overrides
    with pytest.raises(UnauthorizedCallerError) as raised:
        authenticator.authenticate({"Authorization": "Bearer garbage.SIGNATURE_REMOVED_BY_GOOGLE"})
    assert reason(raised) == "malformed_token"
