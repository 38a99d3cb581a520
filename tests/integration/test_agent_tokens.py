"""`atende agent token create|list|revoke` against the Firestore emulator: the token is shown
once, only its SHA-256 is stored, and a revoked token is refused."""

import argparse
import hashlib
import logging

import pytest

from atende.adapters.agent_auth import AgentTokenAuthenticator
from atende.adapters.firestore.agent_tokens import FirestoreAgentTokens, register_dev_token
from atende.bootstrap import reset_container
from atende.cli.agent import add_token_commands, run_agent
from atende.errors import UnauthorizedCallerError
from atende.observability.logging import configure_logging

PROJECT = "atende-it"  # the emulator project of conftest.py


def parse(*argv):
    """`atende agent …` as the CLI's parser reads it."""
    parser = argparse.ArgumentParser(prog="atende agent")
    agent_sub = parser.add_subparsers(dest="action", required=True)
    add_token_commands(agent_sub)
    return parser.parse_args(list(argv))


@pytest.fixture
def cli(db, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no stack file, no .env
    monkeypatch.setenv("ATENDE_PROJECT", PROJECT)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    reset_container(None)

    def run(*argv):
        code = run_agent(parse("token", *argv))
        return code, capsys.readouterr().out

    yield run
    reset_container(None)


@pytest.fixture
def logged():
    """Every log record, whatever handler the app installs."""
    configure_logging("DEBUG")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield records
    logging.getLogger().removeHandler(handler)


def authenticator(db):
    class Clock:
        def now(self):
            raise AssertionError("not needed")

    return AgentTokenAuthenticator(FirestoreAgentTokens(db, Clock()).find, ttl_seconds=0)


def test_create_prints_the_token_once_and_stores_only_its_hash(db, cli, logged):
    code, out = cli("create", "--tenant", "demo", "--tenant", "loja-2", "--label", "crm-prod")
    assert code == 0
    lines = out.splitlines()
    [token] = [line for line in lines if line.startswith("atk_")]
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert f"created agent token {digest[:12]} for demo, loja-2" in out

    [snapshot] = list(db.collection("agent_tokens").stream())
    assert snapshot.id == digest
    document = snapshot.to_dict()
    assert set(document) == {"tenants", "label", "created_at", "revoked_at"}
    assert document["tenants"] == ["demo", "loja-2"] and document["label"] == "crm-prod"
    assert document["revoked_at"] is None and document["created_at"] is not None
    assert token not in repr(document) and token[4:] not in repr(document)
    assert not any(token in repr(record.__dict__) for record in logged)

    caller = authenticator(db).authenticate({"authorization": f"Bearer {token}"})
    assert caller.may_act_for("loja-2") and not caller.may_act_for("other")

    _code, listed = cli("list")
    assert token not in listed
    [row] = [line for line in listed.splitlines() if line.startswith(digest[:12])]
    assert "crm-prod" in row and "demo,loja-2" in row and row.rstrip().endswith("-")


def test_revoke_by_hash_prefix_refuses_the_token_from_then_on(db, cli):
    _code, out = cli("create", "--tenant", "demo")
    [token] = [line for line in out.splitlines() if line.startswith("atk_")]
    digest = hashlib.sha256(token.encode()).hexdigest()
    cli("create", "--tenant", "demo", "--label", "other-crm")

    code, out = cli("revoke", digest[:8])
    assert code == 0 and f"revoked agent token {digest[:12]}" in out
    assert db.collection("agent_tokens").document(digest).get().to_dict()["revoked_at"]
    with pytest.raises(UnauthorizedCallerError) as refused:
        authenticator(db).authenticate({"authorization": f"Bearer {token}"})
    assert refused.value.code == "revoked_token"
    [row] = [line for line in cli("list")[1].splitlines() if line.startswith(digest[:12])]
    assert not row.rstrip().endswith("-")  # the revocation time
    assert len(list(db.collection("agent_tokens").stream())) == 2  # the other one untouched


@pytest.mark.parametrize(
    ("prefix", "says"),
    [("abc", "at least 6"), ("zzzzzzzz", "at least 6"), ("ffffffffff", "no agent token")],
)
def test_revoke_refuses_a_prefix_that_names_no_single_token(db, cli, prefix, says):
    cli("create", "--tenant", "demo")
    code, out = cli("revoke", prefix)
    assert code == 1 and says in out
    [snapshot] = list(db.collection("agent_tokens").stream())
    assert snapshot.to_dict()["revoked_at"] is None


def test_create_refuses_a_bad_tenant_id_and_stores_nothing(db, cli):
    code, out = cli("create", "--tenant", "demo tenant")
    assert code == 2 and "tenants" in out
    assert list(db.collection("agent_tokens").stream()) == []


def test_the_dev_token_is_registered_idempotently_for_its_tenants(db):
    first = register_dev_token(db, "dev-agent-token", ["demo"])
    again = register_dev_token(db, "dev-agent-token", ["demo"])
    assert again.created_at == first.created_at
    assert len(list(db.collection("agent_tokens").stream())) == 1
    caller = authenticator(db).authenticate({"authorization": "Bearer dev-agent-token"})
    assert caller.may_act_for("demo") and not caller.may_act_for("other")
    document = db.collection("agent_tokens").document(first.token_hash).get().to_dict()
    assert "dev-agent-token" not in repr(document)
