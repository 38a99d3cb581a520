"""Where a task goes: `<base>/<worker>`, unless the worker has its own URL."""

from atende.adapters.cloud_tasks import _TaskBuilder
from atende.config import Settings
from atende.ports import TaskRequest

OWN_URL = "https://process-inbound-abc123-uc.a.run.app"


def build(**settings):
    config = Settings(
        _env_file=None,
        functions_base_url="https://us-central1-p.cloudfunctions.net",
        tasks_service_account="invoker@p.iam.gserviceaccount.com",
        **settings,
    )
    request = TaskRequest(
        queue="inbound", task_id="t1", target="process_inbound", body=b"{}", correlation_id="c"
    )
    return _TaskBuilder(config, None).build(request).http_request


def test_a_task_targets_the_worker_under_the_base_url_by_default():
    http = build()
    assert http.url == "https://us-central1-p.cloudfunctions.net/process_inbound"
    assert http.oidc_token.audience == http.url


def test_a_worker_with_its_own_url_gets_its_tasks_there_and_the_token_names_it():
    http = build(function_urls={"process_inbound": OWN_URL})
    assert http.url == OWN_URL and http.oidc_token.audience == OWN_URL


def test_function_urls_come_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("ATENDE_FUNCTION_URLS", f'{{"process_inbound": "{OWN_URL}"}}')
    settings = Settings(_env_file=None)
    assert settings.function_url("process_inbound") == OWN_URL
    assert settings.function_url("send_outbound").endswith("/send_outbound")
