"""Who may act as an agent: a token looked up by its SHA-256, naming the tenants it may act
for, refused when missing, unknown or revoked, and cached briefly per instance."""

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from atende.adapters.agent_auth import AgentTokenAuthenticator, new_token, token_hash
from atende.adapters.firestore.agent_tokens import AgentTokenRecord
from atende.errors import TransientError, UnauthorizedCallerError

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DEMO_TOKEN = "atk_demo-token-for-tests-0123456789abcdefghijklmnop"
REVOKED_TOKEN = "atk_revoked-token-for-tests-0123456789abcdefghijkl"


def record(token, tenants, revoked_at=None):
    return AgentTokenRecord(
        token_hash=token_hash(token),
        tenants=tenants,
        label="crm",
        created_at=T0,
        revoked_at=revoked_at,
    )


class Store:
    """The token store, by hash, counting its reads."""

    def __init__(self, *records):
        self.records = {r.token_hash: r for r in records}
        self.reads = 0

    def find(self, digest):
        self.reads += 1
        return self.records.get(digest)


class Clock:
    def __init__(self):
        self.value = 0.0

    def __call__(self):
        return self.value


def id_token_as_cloud_run_forwards_it(email="crm@crm-project.iam.gserviceaccount.com"):
    """A Google ID token after Cloud Run verified it: the signature replaced."""

    def segment(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"iss": "https://accounts.google.com", "aud": "https://x", "email": email}
    header = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    return f"{segment(header)}.{segment(claims)}.SIGNATURE_REMOVED_BY_GOOGLE"


@pytest.fixture
def store():
    return Store(
        record(DEMO_TOKEN, ("demo", "loja-2")),
        record(REVOKED_TOKEN, ("demo",), revoked_at=T0),
    )


def test_a_known_token_acts_for_its_tenants_and_no_other(store):
    caller = AgentTokenAuthenticator(store.find).authenticate(
        {"Authorization": f"Bearer {DEMO_TOKEN}"}
    )
    assert caller.may_act_for("demo") and caller.may_act_for("loja-2")
    assert not caller.may_act_for("other")
    assert caller.token_ref == token_hash(DEMO_TOKEN)[:12]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Bearer "}, "missing_token"),
        ({"Authorization": f"Basic {DEMO_TOKEN}"}, "missing_token"),
        ({"Authorization": "Bearer atk_not-a-token-we-ever-issued"}, "unknown_token"),
        ({"Authorization": f"Bearer {DEMO_TOKEN}x"}, "unknown_token"),
        ({"Authorization": "Bearer tokén"}, "unknown_token"),
        ({"Authorization": "Bearer " + "a" * 600}, "unknown_token"),
        ({"Authorization": f"Bearer {REVOKED_TOKEN}"}, "revoked_token"),
    ],
)
def test_a_caller_without_a_valid_token_is_refused(store, headers, code):
    with pytest.raises(UnauthorizedCallerError) as refused:
        AgentTokenAuthenticator(store.find).authenticate(headers)
    assert refused.value.code == code


@pytest.mark.parametrize("header", ["Authorization", "authorization", "AUTHORIZATION"])
def test_the_token_is_read_whatever_the_header_and_scheme_case(store, header):
    caller = AgentTokenAuthenticator(store.find).authenticate({header: f"bearer {DEMO_TOKEN}"})
    assert caller.may_act_for("demo")


def test_private_mode_the_id_token_in_x_serverless_authorization_leaves_the_token_alone(store):
    # Exactly what Cloud Run hands the code when the CRM sends both headers.
    headers = {
        "x-serverless-authorization": f"Bearer {id_token_as_cloud_run_forwards_it()}",
        "authorization": f"Bearer {DEMO_TOKEN}",
    }
    assert AgentTokenAuthenticator(store.find).authenticate(headers).may_act_for("demo")


def test_the_iam_header_alone_never_lets_anyone_in(store):
    headers = {"x-serverless-authorization": f"Bearer {id_token_as_cloud_run_forwards_it()}"}
    with pytest.raises(UnauthorizedCallerError) as refused:
        AgentTokenAuthenticator(store.find).authenticate(headers)
    assert refused.value.code == "missing_token"


@pytest.mark.parametrize(
    "id_token",
    [
        id_token_as_cloud_run_forwards_it(),  # private mode, the ID token in Authorization
        id_token_as_cloud_run_forwards_it().replace("SIGNATURE_REMOVED_BY_GOOGLE", "c2ln"),
    ],
)
def test_an_id_token_in_authorization_is_refused_with_where_it_belongs(store, id_token):
    with pytest.raises(UnauthorizedCallerError) as refused:
        AgentTokenAuthenticator(store.find).authenticate({"authorization": f"Bearer {id_token}"})
    assert refused.value.code == "id_token_in_authorization"
    assert "X-Serverless-Authorization" in str(refused.value)
    assert store.reads == 0


def test_lookups_are_by_hash_and_cached_until_the_ttl_so_a_revocation_bites_after_it(store):
    clock = Clock()
    auth = AgentTokenAuthenticator(store.find, ttl_seconds=30, monotonic=clock)
    headers = {"authorization": f"Bearer {DEMO_TOKEN}"}
    auth.authenticate(headers)
    auth.authenticate(headers)
    assert store.reads == 1
    digest = hashlib.sha256(DEMO_TOKEN.encode()).hexdigest()
    store.records[digest] = store.records[digest].model_copy(update={"revoked_at": T0})
    clock.value = 29.0
    assert auth.authenticate(headers).may_act_for("demo")  # still cached
    clock.value = 30.0
    with pytest.raises(UnauthorizedCallerError) as refused:
        auth.authenticate(headers)
    assert refused.value.code == "revoked_token" and store.reads == 2


def test_unknown_tokens_are_cached_too_and_the_cache_stays_bounded(store):
    auth = AgentTokenAuthenticator(store.find, ttl_seconds=30, monotonic=Clock())

    def guess(index):
        with pytest.raises(UnauthorizedCallerError):
            auth.authenticate({"authorization": f"Bearer atk_guess-{index}"})

    for index in range(1500):
        guess(index)
    assert store.reads == 1500
    guess(1499)  # a repeated guess costs no read
    assert store.reads == 1500
    assert len(auth._cache) <= 1024


def test_a_store_it_cannot_read_is_a_transient_failure_not_a_refusal():
    def unreachable(_digest):
        raise TransientError("agent tokens unreachable", code="store_unavailable")

    with pytest.raises(TransientError):
        AgentTokenAuthenticator(unreachable).authenticate({"authorization": f"Bearer {DEMO_TOKEN}"})


def test_new_tokens_are_long_random_and_recognisable():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(t.startswith("atk_") and len(t) >= 47 and "." not in t for t in tokens)
