"""`make dev` reads its dev secrets and settings from `.env`."""

import json
from pathlib import Path

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
