"""`make dev` reads its dev secrets and settings from `.env`."""

import json
from pathlib import Path

import pytest

from atende.cli.dev import config_from_dotenv


def test_dev_secrets_tenants_and_other_settings_come_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "WHATSAPP_APP_SECRET=from-file\n"
        "ATENDE_TASK_SECRET=task-from-file\n"
        f"ATENDE_WHATSAPP_TENANTS={json.dumps({'111': 'acme'})}\n"
        "ATENDE_LOG_LEVEL=DEBUG\n"
        "ATENDE_FUNCTIONS_BASE_URL=http://elsewhere\n"
    )
    config = config_from_dotenv(8080, env_file)
    assert config.whatsapp_app_secret == "from-file"
    assert config.task_secret == "task-from-file"
    assert config.whatsapp_tenants == {"111": "acme"}
    assert config.extra_env == {"ATENDE_LOG_LEVEL": "DEBUG"}  # the stack's own wiring wins
    assert config.whatsapp_verify_token == "dev-verify-token"  # defaults fill the gaps
    assert config.run_dir == Path.cwd() / ".atende" / "run"


def test_a_missing_env_file_means_the_dev_defaults(tmp_path):
    config = config_from_dotenv(9090, tmp_path / "absent")
    assert config.functions_port == 9090
    assert config.whatsapp_tenants == {"106540352242922": "demo"}


def test_make_dev_gives_up_on_a_failing_task_within_a_minute_by_default(tmp_path):
    """A developer sees a dead letter soon: the same retry shape as the cloud, but short."""
    retries = config_from_dotenv(8080, tmp_path / "absent").retries()
    for queue in ("inbound", "outbound"):
        config = retries[queue]
        # Cloud Tasks' rule (RetryConfig.max_doublings): doubling, then linear steps, capped.
        base, doublings = config.min_backoff_seconds, config.max_doublings
        waits = [
            min(
                base * 2 ** (k - 1)
                if k - 1 <= doublings
                else base * 2**doublings * (k - doublings),
                config.max_backoff_seconds,
            )
            for k in range(1, config.max_attempts)
        ]
        assert 0 < sum(waits) <= 60, f"{queue}: {sum(waits)} s before the dead letter"


def test_the_dev_retries_can_be_changed_in_the_env_file_and_stay_out_of_the_functions(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ATENDE_DEV_MAX_ATTEMPTS=3\nATENDE_DEV_MAX_BACKOFF_SECONDS=2\n"
        "ATENDE_DEV_TOMBSTONE_SECONDS=1\n"
    )
    config = config_from_dotenv(8080, env_file)
    retries = config.retries()
    assert retries["inbound"].max_attempts == retries["outbound"].max_attempts == 3
    assert retries["outbound"].max_backoff_seconds == 2
    assert config.tasks_tombstone_seconds == 1
    assert not any(key.startswith("ATENDE_DEV_") for key in config.extra_env)


def test_a_bad_dev_retry_value_is_refused_with_its_name(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ATENDE_DEV_MAX_ATTEMPTS=many\n")
    with pytest.raises(SystemExit, match="ATENDE_DEV_MAX_ATTEMPTS"):
        config_from_dotenv(8080, env_file)
