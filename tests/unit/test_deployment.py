"""The code's own list of functions and their secrets, which infra/ must match."""

from atende.deployment import functions, secret_id
from atende.devstack.functions_app import discover
from atende.packaging import REPO_ROOT


def test_every_declared_function_has_an_entry_point_and_every_entry_point_is_declared():
    assert [spec.name for spec in functions()] == discover(REPO_ROOT / "functions")


def test_each_function_reads_only_its_own_secrets():
    specs = {spec.name: spec for spec in functions()}
    assert specs["whatsapp_webhook"].secrets == {"WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"}
    assert "WHATSAPP_ACCESS_TOKEN" in specs["send_outbound"].secrets
    assert "WHATSAPP_ACCESS_TOKEN" not in specs["whatsapp_webhook"].secrets
    assert specs["process_inbound"].secrets == {"ATENDE_AI_API_KEY"}
    assert specs["agent_reply"].secrets == set()
    assert specs["apple_calendar_poll"].kind == "job"
    kinds = {spec.kind for spec in specs.values()}
    assert kinds == {"webhook", "worker", "job", "agent"}


def test_secret_ids_follow_secret_manager_naming():
    assert secret_id("WHATSAPP_APP_SECRET") == "whatsapp-app-secret"
