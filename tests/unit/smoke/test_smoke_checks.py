"""The smoke checks with fakes: what each one reports when the deployment is fine, and the
message an operator gets when it is not."""

import json
from datetime import UTC, datetime
from pathlib import Path

from atende.deployment import FunctionSpec
from atende.smoke.delivery import SMOKE_CONFIG, DeliveryCheck, SmokeTarget, ensure_smoke_tenant
from atende.smoke.http import Answer
from atende.smoke.jobs import CloudSchedulerJobRunner, LocalJobRunner, check_job
from atende.smoke.logs import CloudLogSearch, LocalLogFile, check_logs, cloud_filter
from atende.smoke.result import CheckResult
from atende.smoke.runner import Smoke
from atende.smoke.webhooks import check_webhook
from atende.tenants.tenant_config import TenantConfig

REPO = Path(__file__).resolve().parents[3]
WHATSAPP = FunctionSpec(
    "whatsapp_webhook", "webhook", frozenset({"WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"})
)
TIKTOK = FunctionSpec("tiktok_webhook", "webhook", frozenset({"TIKTOK_CLIENT_SECRET"}))


class Webhook:
    """A webhook as the code serves it, with switches to break it."""

    def __init__(self, token="right-token", accepts_unsigned=False, unsigned_status=401):
        self.token = token
        self.unsigned_status = 200 if accepts_unsigned else unsigned_status
        self.calls = []

    def request(self, method, url, *, body=None, headers=None, params=None):
        self.calls.append((method, url, dict(params or {})))
        if method == "POST":
            return Answer(self.unsigned_status, "")
        if params.get("hub.verify_token") == self.token:
            return Answer(200, params["hub.challenge"])
        return Answer(403, "forbidden")


class Secrets(dict):
    def get(self, name, default=None):
        return super().get(name, default)


def test_a_webhook_that_refuses_unsigned_posts_and_wrong_tokens_passes():
    http = Webhook()
    result = check_webhook(http, "https://x", WHATSAPP,
                           Secrets(WHATSAPP_VERIFY_TOKEN="right-token"))  # fmt: skip
    assert result.ok, result
    assert result.summary.endswith("answers the right one")
    assert [c[0] for c in http.calls] == ["POST", "GET", "GET"]


def test_a_webhook_that_accepts_an_unsigned_delivery_fails_loudly():
    result = check_webhook(Webhook(accepts_unsigned=True), "https://x", TIKTOK, Secrets())
    assert not result.ok
    assert "got 200, not 401" in result.summary
    assert "ACCEPTED a delivery nobody signed" in result.hint


def test_a_webhook_without_its_secret_names_the_secret_to_add():
    result = check_webhook(Webhook(unsigned_status=500), "https://x", TIKTOK, Secrets())
    assert not result.ok and "tiktok-client-secret" in result.hint


def test_an_unreadable_verify_token_skips_only_the_right_answer():
    result = check_webhook(Webhook(), "https://x", WHATSAPP, Secrets())
    assert result.ok
    assert "whatsapp-verify-token is not readable here" in result.summary


def test_a_wrong_verify_token_in_the_deployment_fails_the_handshake():
    result = check_webhook(Webhook(token="other"), "https://x", WHATSAPP,
                           Secrets(WHATSAPP_VERIFY_TOKEN="right-token"))  # fmt: skip
    assert not result.ok and "whatsapp-verify-token" in result.hint


class TenantStore:
    def __init__(self, document=None):
        self.document = document
        self.saved = None

    def load(self, tenant_id):
        return self.document

    def save(self, tenant_id, config):
        self.saved = config
        self.document = config.model_dump(mode="json")


def test_the_smoke_tenant_is_stored_once_and_a_sending_one_is_refused():
    store = TenantStore()
    assert ensure_smoke_tenant(store, "smoke") == "stored its dry-run configuration"
    assert store.saved.outbound == "dry_run"
    store.saved = None
    ensure_smoke_tenant(store, "smoke")
    assert store.saved is None  # idempotent: an existing dry-run configuration stays
    sending = TenantStore(TenantConfig().model_dump(mode="json"))
    check = delivery_check(tenants=sending)
    result = check.run()
    assert not result.ok and "outbound 'send', not 'dry_run'" in result.summary
    assert check.http.calls == []  # nothing was posted


def test_the_example_smoke_tenant_file_is_the_commands_configuration():
    document = json.loads((REPO / "docs/examples/tenant-smoke.json").read_text())
    assert document.pop("tenant_id") == "smoke"
    assert TenantConfig.model_validate(document) == SMOKE_CONFIG


class Outbox:
    def __init__(self, records):
        self.records = records

    def for_session(self, session_id):
        return self.records


class Accepting:
    def __init__(self):
        self.calls = []

    def request(self, method, url, *, body=None, headers=None, params=None):
        self.calls.append((method, url, headers))
        self.body = json.loads(body)
        return Answer(200, "EVENT_RECEIVED")


def delivery_check(tenants=None, records_for=None, timeout=0.0):
    http = Accepting()

    class Reader:
        def for_session(self, session_id):
            if records_for is None:
                return []
            message_id = http.body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
            return records_for(message_id)

    return DeliveryCheck(
        http, "https://x", Secrets(WHATSAPP_APP_SECRET="s"), tenants or TenantStore(), Reader(),
        SmokeTarget(account="999"), timeout=timeout, sleep=lambda s: None,
    )  # fmt: skip


def dry_run(message_id, **fields):
    return {"inbound_event_id": message_id, "status": "sent", "last_call": "not_called",
            "history": [{"status": "sent", "detail": "dry_run"}], **fields}  # fmt: skip


def test_the_delivery_passes_when_every_reply_is_a_dry_run():
    check = delivery_check(records_for=lambda mid: [dry_run(mid), dry_run(mid)])
    result = check.run()
    assert result.ok, result
    _, url, headers = check.http.calls[0]
    assert url == "https://x/whatsapp_webhook" and headers["x-hub-signature-256"]
    value = check.http.body["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == "999"


def test_a_reply_really_sent_for_the_smoke_tenant_fails():
    sent = {"status": "sent", "last_call": "accepted",
            "history": [{"status": "sent", "detail": "provider_accepted"}]}  # fmt: skip
    result = delivery_check(records_for=lambda mid: [{**sent, "inbound_event_id": mid}]).run()
    assert not result.ok and "really SENT" in result.summary


def test_no_reply_points_at_process_inbound_and_the_account_mapping():
    result = delivery_check(records_for=lambda mid: []).run()
    assert not result.ok and "no reply was queued" in result.summary
    assert "channel_accounts maps whatsapp account 999" in result.hint


def test_a_failed_reply_names_its_error():
    failed = {"status": "failed", "last_error": "missing_token"}
    result = delivery_check(records_for=lambda mid: [{**failed, "inbound_event_id": mid}]).run()
    assert not result.ok and "failed (missing_token)" in result.summary


def test_the_local_job_runner_sends_the_task_header_and_needs_2xx():
    class Job:
        def request(self, method, url, *, body=None, headers=None, params=None):
            ok = headers == {"x-atende-task-token": "secret"}
            return Answer(200 if ok else 401, '{"outcome": "done"}' if ok else "")

    assert check_job(LocalJobRunner(Job(), "http://l", "secret"), "youtube_renew").ok
    refused = check_job(LocalJobRunner(Job(), "http://l", "other"), "youtube_renew")
    assert not refused.ok and "answered 401" in refused.summary
    assert "OIDC token" in refused.hint


class Response:
    def __init__(self, status_code, payload=None):
        self.status_code = status_code
        self.payload = payload or {}
        self.text = json.dumps(self.payload)

    def json(self):
        return self.payload


class Scheduler:
    """Cloud Scheduler's jobs.get and jobs.run: a run sets lastAttemptTime and status."""

    def __init__(self, status):
        self.job = {"lastAttemptTime": "2026-01-01T00:00:00Z", "status": {}}
        self.status = status
        self.urls = []

    def get(self, url, **kwargs):
        self.urls.append(("GET", url))
        return Response(200, self.job)

    def post(self, url, **kwargs):
        self.urls.append(("POST", url))
        self.job = {"lastAttemptTime": "2026-01-02T00:00:00Z", "status": self.status}
        return Response(200, self.job)


def test_the_cloud_job_run_asks_the_scheduler_and_reads_the_targets_answer():
    scheduler = Scheduler({})
    runner = CloudSchedulerJobRunner(scheduler, "p", "r", sleep=lambda s: None)
    assert check_job(runner, "youtube_renew").ok
    name = (
        "https://cloudscheduler.googleapis.com/v1/projects/p/locations/r/jobs/atende-youtube-renew"
    )
    assert ("POST", f"{name}:run") in scheduler.urls
    refused = Scheduler({"code": 16, "message": "UNAUTHENTICATED"})
    result = check_job(
        CloudSchedulerJobRunner(refused, "p", "r", sleep=lambda s: None), "youtube_renew"
    )
    assert not result.ok and "status code 16: UNAUTHENTICATED" in result.summary


def test_the_local_log_search_sees_only_what_was_logged_after_the_start(tmp_path):
    log = tmp_path / "functions.log"
    refused = json.dumps({"message": "caller refused", "outcome": "wrong_token"})
    log.write_text(refused + "\n")
    search = LocalLogFile(log)
    search.start()
    assert check_logs(search).ok  # the old refusal does not count
    with log.open("a") as handle:
        handle.write("not json\n" + json.dumps({"message": "job done"}) + "\n" + refused + "\n")
    result = check_logs(search)
    assert not result.ok
    assert "caller refused (wrong_token) ×1" in result.summary
    assert "wrong_audience" in result.hint


def test_the_cloud_log_search_queries_the_private_functions_since_the_start():
    since = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    text = cloud_filter("p", ["process_inbound", "send_outbound"], since)
    assert 'resource.labels.service_name=("process-inbound" OR "send-outbound")' in text
    assert 'timestamp>="2026-05-01T12:00:00+00:00"' in text
    assert 'jsonPayload.message="caller refused"' in text
    assert "httpRequest.status=(401 OR 403)" in text

    class Logging:
        def post(self, url, **kwargs):
            self.body = kwargs["json"]
            return Response(200, {"entries": [
                {"resource": {"labels": {"service_name": "send-outbound"}},
                 "jsonPayload": {"message": "caller refused", "outcome": "wrong_audience"}},
                {"resource": {"labels": {"service_name": "process-inbound"}},
                 "httpRequest": {"status": 403}},
            ]})  # fmt: skip

    client = Logging()
    search = CloudLogSearch(client, "p", ["send_outbound"], now=lambda: since)
    search.start()
    result = check_logs(search)
    assert client.body["resourceNames"] == ["projects/p"]
    assert not result.ok
    assert "send-outbound: caller refused (wrong_audience)" in result.summary
    assert "process-inbound: refused by Cloud Run with 403" in result.summary


def test_any_failed_check_fails_the_run_and_every_check_reports():
    class Logs:
        def start(self):
            self.started = True

        def failures(self):
            return []

    class Delivery:
        def run(self):
            return CheckResult("delivery", False, "no reply", "look")

    class Jobs:
        def run(self, job):
            from atende.smoke.jobs import JobOutcome

            return JobOutcome(True, "answered 200")

    reported = []
    smoke = Smoke(Webhook(), "https://x", [TIKTOK], Secrets(), Delivery(), Jobs(), Logs(),
                  "youtube_renew")  # fmt: skip
    results = smoke.run(reported.append)
    assert [r.ok for r in results] == [True, False, True, True]
    assert reported == results
    assert results[1].lines() == ["FAIL  delivery: no reply", "      look"]


def test_make_dev_maps_the_smoke_account_without_touching_the_env_files_map(tmp_path):
    from atende.cli.dev import config_from_dotenv, with_smoke_account
    from atende.smoke.delivery import DEV_SMOKE_ACCOUNT

    env = tmp_path / ".env"
    env.write_text('ATENDE_WHATSAPP_TENANTS={"111": "acme"}\n')
    config = with_smoke_account(config_from_dotenv(8080, env))
    assert config.whatsapp_tenants == {"111": "acme", DEV_SMOKE_ACCOUNT: "smoke"}


def test_a_runner_that_may_not_store_the_smoke_tenant_is_told_to_store_it_once():
    class ReadOnly(TenantStore):
        def save(self, tenant_id, config):
            raise PermissionError("403 Missing or insufficient permissions")

    check = delivery_check(tenants=ReadOnly())
    result = check.run()
    assert not result.ok and "PermissionError" in result.summary
    assert "atende tenant set docs/examples/tenant-smoke.json" in result.hint
    assert check.http.calls == []


def test_only_the_channels_in_use_have_their_webhooks_checked():
    """A deployment that uses WhatsApp alone has no secrets for the other webhooks (they
    answer 500): `--channels whatsapp` checks that webhook and every other function."""
    from atende.cli.smoke import checked
    from atende.deployment import functions

    specs = functions()
    only = checked(specs, "whatsapp")
    webhooks = [spec.name for spec in only if spec.kind == "webhook"]
    assert webhooks == ["whatsapp_webhook"]
    assert {spec.name for spec in only if spec.kind != "webhook"} == {
        spec.name for spec in specs if spec.kind != "webhook"
    }
    assert checked(specs, "all") == specs


def test_a_channel_that_is_not_deployed_is_refused_by_name():
    import pytest

    from atende.cli.smoke import checked
    from atende.deployment import functions

    with pytest.raises(SystemExit, match="whatsap"):
        checked(functions(), "whatsap")
