"""The resources infra/ creates once for all functions, against what the code expects: queue
retries and attempts, secret ids, scheduler jobs, Firestore TTLs and indexes, alerts that
wait for their metrics, protection from destruction, and the example environments.

Parsed, not planned: see test_infra_wiring.py (infra_wiring_support.py parses infra/)."""

from __future__ import annotations

import re

import hcl2
from infra_wiring_support import HCL_OPTIONS, INFRA, Terraform, strip_interpolation

from atende.adapters.firestore import codec
from atende.channels.registry import channel_names
from atende.config import Settings
from atende.deployment import FunctionSpec, secret_id
from atende.packaging import REPO_ROOT


def test_queue_retries_fit_the_workers_contract(tf: Terraform) -> None:
    settings = tf.default("queue_settings")
    hold = Settings.model_fields["answer_hold_seconds"].default
    for queue, config in settings.items():
        assert config["min_backoff_seconds"] <= hold, (
            f"{queue}: workers answer 503 to wait out a {hold}-s hold; a first retry later "
            f"than that delays every such answer"
        )
        assert config["max_backoff_seconds"] >= 60, f"{queue}: a provider outage is hammered"
        assert config["max_attempts"] >= 20, f"{queue}: too few attempts to ride out an outage"
    assert settings["outbound"]["max_dispatches_per_second"] <= 80, (
        "outbound sends faster than WhatsApp's default 80 messages/s per phone number"
    )


def test_workers_know_their_queues_max_attempts(tf: Terraform) -> None:
    common = tf.locals["common_env"]
    for queue in ("inbound", "outbound"):
        variable = f"ATENDE_{queue.upper()}_MAX_ATTEMPTS"
        assert strip_interpolation(common[variable]) == (
            f'tostring(var.queue_settings["{queue}"].max_attempts)'
        ), f"{variable} must be the {queue} queue's own max_attempts (dead letters)"
        queue_resource = tf.resources[("google_cloud_tasks_queue", queue)]
        assert queue_resource["retry_config"][0]["max_attempts"] == (
            f'${{var.queue_settings["{queue}"].max_attempts}}'
        )


def test_every_secret_exists_under_its_secret_manager_id(tf: Terraform) -> None:
    secret = tf.resources[("google_secret_manager_secret", "secret")]
    assert secret["for_each"] == "${local.secret_names}"
    assert strip_interpolation(secret["secret_id"]) == 'replace(lower(each.key), "_", "-")', (
        "secret ids must follow atende.deployment.secret_id (lower case, dashes)"
    )
    assert secret_id("ATENDE_AI_API_KEY") == "atende-ai-api-key"
    names = tf.locals["secret_names"]
    for group in ("channels", "workers", "jobs", "agents"):
        assert f"local.{group}" in names, f"the secrets of local.{group} are never created"


def test_every_job_is_scheduled_with_the_invoker_token_for_its_own_url(tf: Terraform) -> None:
    job = tf.resources[("google_cloud_scheduler_job", "job")]
    assert job["for_each"] == "${local.jobs}", "every job function needs its scheduler job"
    target = job["http_target"][0]
    token = target["oidc_token"][0]
    url = "${local.functions_base_url}/${each.key}"
    assert (target["http_method"], target["uri"]) == ("POST", url)
    assert token["audience"] == url, "jobs accept only tokens whose audience is their own URL"
    assert token["service_account_email"] == "${google_service_account.invoker.email}"


def test_firestore_expires_and_indexes_what_the_code_expects(tf: Terraform) -> None:
    ttl = tf.resources[("google_firestore_field", "expire_at")]
    collections = set(re.findall(r'"(\w+)"', ttl["for_each"]))
    expected = {
        codec.DEDUPE,
        codec.OUTBOX,
        codec.HANDOFFS,
        codec.COMMENTS,
        codec.SESSIONS,
        codec.CHANNEL_STATE,
        codec.DEAD_LETTERS,
    }
    assert collections == expected, f"TTL on expire_at of {sorted(expected)}, not {collections}"
    assert ttl["ttl_config"] == [{}]
    index = tf.resources[("google_firestore_index", "handoffs_waiting")]
    assert index["collection"] == codec.HANDOFFS
    assert [f["field_path"] for f in index["fields"]] == ["tenant_id", "status", "requested_at"]
    database = tf.resources[("google_firestore_database", "default")]
    assert (database["name"], database["type"]) == ("(default)", "FIRESTORE_NATIVE")


def test_the_example_environments_name_real_variables_channels_and_functions(
    tf: Terraform, declared: dict[str, FunctionSpec]
) -> None:
    files = sorted((INFRA / "envs").glob("*.tfvars"))
    # One per environment variables.tf accepts (and docs/deploy.md names): the pipeline's plan
    # reads envs/$_ENV.tfvars.
    environments = set(
        re.findall(r'"(\w+)"', tf.variables["environment"]["validation"][0]["condition"])
    )
    assert environments == {"dev", "staging", "prod"}, environments
    assert {path.stem for path in files} == environments, f"infra/envs needs {environments}"
    for path in files:
        with path.open() as handle:
            values = hcl2.load(handle, serialization_options=HCL_OPTIONS)
        where = path.relative_to(REPO_ROOT)
        unknown = sorted(set(values) - set(tf.variables))
        assert not unknown, f"{where} sets {unknown}, which infra/variables.tf does not declare"
        channels = set(values.get("channel_accounts", {})) - set(channel_names())
        assert not channels, f"{where}: channel_accounts names no channel: {sorted(channels)}"
        overrides = set(values.get("function_overrides", {})) - set(declared)
        assert not overrides, f"{where}: function_overrides names no function: {sorted(overrides)}"


def _go_duration_seconds(value: str) -> float:
    """A Go duration string (time_sleep's create_duration: "30s", "10m", "1h30m") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", value)
    assert parts and "".join(n + u for n, u in parts) == value, f"not a duration: {value!r}"
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def test_every_alert_waits_until_cloud_monitoring_sees_its_metric(tf: Terraform) -> None:
    """A first apply creates the log-based metrics and their alerts together; Cloud Monitoring
    refuses an alert on a metric it does not see yet (404 "Cannot find metric(s)", up to 10
    minutes after the metric was created). So every alert waits for one time_sleep, and that
    sleep is created (and waits) again whenever a metric is added, renamed or removed."""
    metrics = sorted(name for kind, name in tf.resources if kind == "google_logging_metric")
    alerts = sorted(name for kind, name in tf.resources if kind == "google_monitoring_alert_policy")
    sleeps = {name: body for (kind, name), body in tf.resources.items() if kind == "time_sleep"}
    assert metrics and alerts, "monitoring.tf has no log-based metrics or alerts to order"
    assert list(sleeps) == ["log_metrics_visible"], f"one wait, not {sorted(sleeps)}"
    sleep = sleeps["log_metrics_visible"]
    assert _go_duration_seconds(sleep["create_duration"]) >= 600, (
        "the wait must cover the 10 minutes Cloud Monitoring may take to see a new metric"
    )
    # The wait depends on every metric, through triggers keyed on their names only: a new,
    # renamed or removed metric waits again; a changed filter or description does not.
    for metric in metrics:
        assert strip_interpolation(sleep["triggers"]) == (
            f"{{for key, metric in google_logging_metric.{metric} : key => metric.name}}"
        ), f"the wait's triggers must be every google_logging_metric.{metric}'s name"
    assert "depends_on" not in sleep or sleep["depends_on"] == []
    # Every alert waits for it.
    for alert in alerts:
        body = tf.resources[("google_monitoring_alert_policy", alert)]
        assert "${time_sleep.log_metrics_visible}" in body.get("depends_on", []), (
            f"alert {alert} would be created before Cloud Monitoring sees its metric"
        )
    # Nothing in a module creates alerts or metrics behind the wait's back.
    hidden = [key for key in tf.module_resources if key[0].startswith("google_monitoring_")]
    hidden += [key for key in tf.module_resources if key[0] == "google_logging_metric"]
    assert not hidden, f"metrics or alerts outside monitoring.tf's wait: {hidden}"


#: Resources whose deletion loses what Terraform cannot recreate: a queue's pending tasks
#: (and its name for up to 3 days), a secret's values (added out of band).
PROTECTED_KINDS = ("google_cloud_tasks_queue", "google_secret_manager_secret")


def test_queues_and_secrets_are_protected_from_destruction(tf: Terraform) -> None:
    protected = {
        (kind, name): body
        for resources in (tf.resources, tf.module_resources)
        for (kind, name), body in resources.items()
        if kind in PROTECTED_KINDS
    }
    assert set(protected) >= {
        ("google_cloud_tasks_queue", "inbound"),
        ("google_cloud_tasks_queue", "outbound"),
        ("google_secret_manager_secret", "secret"),
    }
    for (kind, name), body in sorted(protected.items()):
        lifecycle = body.get("lifecycle", [{}])[0]
        # A literal true: Terraform refuses an expression here, and a plan that would delete
        # the resource then fails instead of deleting it (docs/deploy.md says how to remove
        # one on purpose).
        assert lifecycle.get("prevent_destroy") is True, (
            f"{kind}.{name} has no `lifecycle {{ prevent_destroy = true }}`: a renamed "
            "variable or a dropped channel would delete it with what it holds"
        )
