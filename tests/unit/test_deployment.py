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


def test_channels_declare_their_functions_in_their_plugins():
    specs = {spec.name: spec for spec in functions()}
    # A webhook for each channel with a connector, and none for Apple Calendar (no push).
    assert "apple_calendar_webhook" not in specs
    assert specs["tiktok_webhook"].secrets == {"TIKTOK_CLIENT_SECRET"}
    assert specs["tiktok_webhook"].queues == {"inbound"}
    # A job reads and enqueues what its declaration says.
    assert specs["youtube_renew"].secrets == {"YOUTUBE_HUB_SECRET"}
    assert specs["youtube_renew"].queues == frozenset()
    assert specs["google_calendar_watch"].queues == {"inbound"}
    # send_outbound reads every sending channel's token, and nothing of a webhook's.
    send = specs["send_outbound"].secrets
    assert {"LINKEDIN_ACCESS_TOKEN", "MESSENGER_PAGE_ACCESS_TOKEN"} <= send
    assert "LINKEDIN_CLIENT_SECRET" not in send
