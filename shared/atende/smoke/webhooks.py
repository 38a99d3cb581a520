"""Every deployed webhook refuses what it must: an unsigned POST (401) and, where the channel
has a `hub.*` verify-token handshake (the Meta channels), a wrong token (403); with the
token readable by the runner, the handshake is also answered with its challenge."""

from __future__ import annotations

import secrets as random
from collections.abc import Iterable

import requests

from atende.deployment import FunctionSpec, secret_id
from atende.errors import ConfigurationError
from atende.ports import SecretSource
from atende.smoke.http import Http
from atende.smoke.result import CheckResult, failed, passed

#: The webhooks answer an unsigned delivery with this (webhook/edge.py)…
UNSIGNED_REFUSED = 401
#: … and a handshake with a wrong verify token with this.
HANDSHAKE_REFUSED = 403
VERIFY_TOKEN_SUFFIX = "_VERIFY_TOKEN"  # noqa: S105 - a suffix of secret names


def verify_token_names(spec: FunctionSpec) -> list[str]:
    """The verify tokens a webhook reads: its channel has the `hub.*` handshake."""
    return sorted(name for name in spec.secrets if name.endswith(VERIFY_TOKEN_SUFFIX))


def handshake_query(token: str, challenge: str) -> dict[str, str]:
    """The GET query Meta sends to verify a webhook (channels/graph/signature.py)."""
    return {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge}


def _readable(secrets: SecretSource, name: str) -> str | None:
    try:
        return secrets.get(name)
    except ConfigurationError:
        return None


def check_webhook(
    http: Http, base_url: str, spec: FunctionSpec, secrets: SecretSource
) -> CheckResult:
    url = f"{base_url}/{spec.name}"
    try:
        return _check(http, url, spec, secrets)
    except requests.RequestException as error:
        return failed(f"webhook {spec.name}", f"no answer from {url} ({type(error).__name__})",
                      "Is it deployed (terraform output webhook_urls) and is the base URL "
                      "right?")  # fmt: skip


def _check(http: Http, url: str, spec: FunctionSpec, secrets: SecretSource) -> CheckResult:
    name = f"webhook {spec.name}"
    secret_ids = ", ".join(secret_id(s) for s in sorted(spec.secrets)) or "none"
    unsigned = http.request("POST", url, body=b"{}", headers={"content-type": "application/json"})
    if unsigned.status != UNSIGNED_REFUSED:
        return failed(name, f"an unsigned POST got {unsigned.status}, not {UNSIGNED_REFUSED}",
                      _unsigned_hint(unsigned.status, url, secret_ids))  # fmt: skip
    done = [f"refuses an unsigned delivery ({UNSIGNED_REFUSED})"]
    for token_name in verify_token_names(spec):
        challenge = random.token_hex(8)
        wrong = http.request(
            "GET", url, params=handshake_query("smoke-wrong-" + random.token_hex(8), challenge)
        )
        if wrong.status != HANDSHAKE_REFUSED:
            return failed(
                name,
                f"a handshake with a wrong verify token got {wrong.status}, not "
                f"{HANDSHAKE_REFUSED}",
                "The webhook does not check the verify token: anyone could subscribe it. "
                "Look at the function's logs and the deployed revision.",
            )
        done.append(f"refuses a wrong verify token ({HANDSHAKE_REFUSED})")
        token = _readable(secrets, token_name)
        if token is None:
            done.append(f"(right token not checked: {secret_id(token_name)} is not readable here)")
            continue
        right = http.request("GET", url, params=handshake_query(token, challenge))
        if right.status != 200 or right.text != challenge:
            return failed(
                name,
                f"the handshake with the right verify token got {right.status}, not 200 "
                "with the challenge",
                f"The provider could not subscribe this webhook. Check the latest version of "
                f"the secret {secret_id(token_name)} and that the function reads it (its "
                "logs: 'webhook verification token is not configured').",
            )
        done.append("answers the right one")
    return passed(name, ", ".join(done))


def _unsigned_hint(status: int, url: str, secret_ids: str) -> str:
    if 200 <= status < 300:
        return ("It ACCEPTED a delivery nobody signed: its signature check is not working. "
                "Roll back (docs/deploy.md) and look at the deployed revision.")  # fmt: skip
    if status == 500:
        return (f"Its secret is missing or unreadable ('webhook secret is not configured' in "
                f"its logs): add a version of {secret_ids} and check its service account's "
                "secretAccessor grant.")  # fmt: skip
    if status in (403, 404):
        return (f"{url} is not reachable as a public webhook: is it deployed (terraform "
                "output webhook_urls), public (allUsers run.invoker, or the invoker check "
                "turned off), and is the base URL right?")  # fmt: skip
    return "An unexpected answer: look at the function's logs around now."


def check_webhooks(
    http: Http, base_url: str, specs: Iterable[FunctionSpec], secrets: SecretSource
) -> list[CheckResult]:
    return [
        check_webhook(http, base_url, spec, secrets) for spec in specs if spec.kind == "webhook"
    ]
