"""OidcAuthenticator for real: RSA-signed JWTs checked against certificates served over HTTP.

A local server plays Google's certificate endpoint ({key id: PEM certificate}); tokens are
signed with google-auth's own signer, so verification runs the same code as in the cloud.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from atende.adapters.task_auth import OidcAuthenticator
from atende.errors import TransientError, UnauthorizedCallerError

AUDIENCE = "https://us-central1-atende-dev.cloudfunctions.net/process_inbound"
SERVICE_ACCOUNT = "atende-tasks@atende-dev.iam.gserviceaccount.com"
KID = "key-1"


@dataclass(frozen=True)
class Key:
    signer: crypt.RSASigner
    certificate_pem: str


def make_key(kid: str) -> Key:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-issuer")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    from_string: Any = crypt.RSASigner.from_string  # google-auth has no hints here
    return Key(
        signer=from_string(private_pem, key_id=kid),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )


@pytest.fixture(scope="module")
def key() -> Key:
    return make_key(KID)


@dataclass
class CertsEndpoint:
    certs: dict[str, str]
    status: int = 200
    cache_control: str = "public, max-age=3600"
    #: Served instead of the certificates when set.
    raw_body: bytes | None = None
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def endpoint(key: Key) -> CertsEndpoint:
    return CertsEndpoint(certs={KID: key.certificate_pem})


@pytest.fixture
def certs_url(endpoint: CertsEndpoint) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with endpoint.lock:
                endpoint.hits += 1
            body = endpoint.raw_body or json.dumps(endpoint.certs).encode()
            self.send_response(endpoint.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", endpoint.cache_control)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits for the loop's next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/oauth2/v1/certs"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def authenticator(certs_url: str) -> Iterator[OidcAuthenticator]:
    auth = OidcAuthenticator([AUDIENCE, "https://other.example/fn"], SERVICE_ACCOUNT, certs_url)
    try:
        yield auth
    finally:
        auth.close()


def token(key: Key, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": "1234567890",
        "sub": "1234567890",
        "email": SERVICE_ACCOUNT,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    encode: Any = jwt.encode
    encoded: bytes = encode(key.signer, claims)
    return encoded.decode()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def rejection(authenticator: OidcAuthenticator, headers: dict[str, str]) -> str:
    with pytest.raises(UnauthorizedCallerError) as raised:
        authenticator.authenticate(headers)
    return raised.value.code


def test_accepts_a_good_token(authenticator: OidcAuthenticator, key: Key) -> None:
    authenticator.authenticate(bearer(token(key)))
    authenticator.authenticate(
        {"authorization": f"bearer {token(key, aud='https://other.example/fn')}"}
    )
    authenticator.authenticate(bearer(token(key, iss="accounts.google.com", email_verified="true")))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"aud": "https://us-central1-atende-dev.cloudfunctions.net/send_outbound"},
            "wrong_audience",
        ),
        # Times as offsets from when the test runs: collection can be many minutes earlier.
        ({"exp": -120, "iat": -3720}, "token_expired"),
        ({"iat": +600}, "token_not_yet_valid"),
        ({"email": "intruder@evil-project.iam.gserviceaccount.com"}, "wrong_email"),
        ({"email": None}, "wrong_email"),
        ({"email_verified": False}, "email_unverified"),
        ({"email_verified": None}, "email_unverified"),
        ({"iss": "https://evil.example"}, "wrong_issuer"),
        ({"exp": None}, "malformed_token"),
    ],
)
def test_rejects_bad_claims(
    authenticator: OidcAuthenticator, key: Key, overrides: dict[str, Any], expected: str
) -> None:
    now = int(time.time())
    claims = {
        name: now + value if name in ("exp", "iat") and isinstance(value, int) else value
        for name, value in overrides.items()
    }
    assert rejection(authenticator, bearer(token(key, **claims))) == expected


def test_rejects_a_forged_signature(authenticator: OidcAuthenticator, key: Key) -> None:
    forger = make_key(KID)  # same key id, different key
    assert rejection(authenticator, bearer(token(forger))) == "bad_signature"
    unknown = make_key("key-unknown")
    assert rejection(authenticator, bearer(token(unknown))) == "unknown_key"
    # A good token whose claims were swapped: the signature no longer matches.
    header, _, signature = token(key).split(".")
    _, claims, _ = token(key, email="intruder@evil.example").split(".")
    assert rejection(authenticator, bearer(f"{header}.{claims}.{signature}")) == "bad_signature"


def test_rejects_unsigned_and_malformed_tokens(authenticator: OidcAuthenticator, key: Key) -> None:
    header, claims, _ = token(key).split(".")
    assert rejection(authenticator, bearer(f"{header}.{claims}.")) == "bad_signature"
    assert rejection(authenticator, bearer("not-a-jwt")) == "malformed_token"
    assert rejection(authenticator, bearer("a.b.c")) == "invalid_token"


def test_rejects_missing_header_and_other_schemes(
    authenticator: OidcAuthenticator, key: Key
) -> None:
    assert rejection(authenticator, {}) == "missing_token"
    assert rejection(authenticator, {"Authorization": token(key)}) == "not_bearer"
    assert rejection(authenticator, {"Authorization": f"Basic {token(key)}"}) == "not_bearer"


def test_reasons_never_carry_the_token_or_email(authenticator: OidcAuthenticator, key: Key) -> None:
    bad = token(key, email="intruder@evil.example")
    with pytest.raises(UnauthorizedCallerError) as raised:
        authenticator.authenticate(bearer(bad))
    assert str(raised.value) == "wrong_email"
    assert raised.value.__cause__ is None
    forged = token(make_key(KID))
    with pytest.raises(UnauthorizedCallerError) as raised:
        authenticator.authenticate(bearer(forged))
    assert forged not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_certificates_are_cached_for_their_max_age(
    authenticator: OidcAuthenticator, endpoint: CertsEndpoint, key: Key
) -> None:
    for _ in range(5):
        authenticator.authenticate(bearer(token(key)))
    assert endpoint.hits == 1


def test_certificates_without_max_age_are_fetched_each_time(
    authenticator: OidcAuthenticator, endpoint: CertsEndpoint, key: Key
) -> None:
    endpoint.cache_control = "no-cache"
    authenticator.authenticate(bearer(token(key)))
    authenticator.authenticate(bearer(token(key)))
    assert endpoint.hits == 2


def test_certificate_endpoint_failure_is_transient_and_not_cached(
    authenticator: OidcAuthenticator, endpoint: CertsEndpoint, key: Key
) -> None:
    endpoint.status = 503
    with pytest.raises(TransientError):
        authenticator.authenticate(bearer(token(key)))
    endpoint.status = 200
    authenticator.authenticate(bearer(token(key)))
    assert endpoint.hits == 2


def test_certificates_that_are_not_json_are_transient(
    authenticator: OidcAuthenticator, endpoint: CertsEndpoint, key: Key
) -> None:
    endpoint.raw_body = b"<html>oops</html>"
    with pytest.raises(TransientError):
        authenticator.authenticate(bearer(token(key)))
    endpoint.raw_body = None
    authenticator.authenticate(bearer(token(key)))


def test_unreachable_certificate_endpoint_is_transient(key: Key) -> None:
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    auth = OidcAuthenticator([AUDIENCE], SERVICE_ACCOUNT, "http://127.0.0.1:9/certs", timeout=2)
    try:
        with pytest.raises(TransientError):
            auth.authenticate(bearer(token(key)))
    finally:
        auth.close()
