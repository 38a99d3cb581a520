from __future__ import annotations

from pathlib import Path

import pytest

from atende.adapters.env_secrets import EnvSecretSource


@pytest.fixture
def dotenv(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text(
        "WHATSAPP_APP_SECRET=from-file\n"
        "ATENDE_TASK_SECRET='quoted ${NOT_EXPANDED} value'\n"
        "EMPTY_IN_FILE=\n"
        "ONLY_IN_FILE=file-only\n"
        "# COMMENTED=nope\n"
    )
    return path


def test_environment_wins_over_the_file(dotenv: Path) -> None:
    source = EnvSecretSource({"WHATSAPP_APP_SECRET": "from-env"}, dotenv)
    assert source.get("WHATSAPP_APP_SECRET") == "from-env"


def test_falls_back_to_the_file_verbatim(dotenv: Path) -> None:
    source = EnvSecretSource({}, dotenv)
    assert source.get("ONLY_IN_FILE") == "file-only"
    assert source.get("ATENDE_TASK_SECRET") == "quoted ${NOT_EXPANDED} value"


def test_missing_and_empty_are_none(dotenv: Path) -> None:
    source = EnvSecretSource({"EMPTY_IN_ENV": ""}, dotenv)
    assert source.get("COMMENTED") is None
    assert source.get("NOWHERE") is None
    assert source.get("EMPTY_IN_FILE") is None
    assert source.get("EMPTY_IN_ENV") is None


def test_empty_environment_value_falls_back_to_the_file(dotenv: Path) -> None:
    source = EnvSecretSource({"WHATSAPP_APP_SECRET": ""}, dotenv)
    assert source.get("WHATSAPP_APP_SECRET") == "from-file"


def test_file_is_read_once_and_lazily(dotenv: Path) -> None:
    source = EnvSecretSource({}, dotenv)
    dotenv.write_text("ONLY_IN_FILE=first\n")  # changed before the first get: seen
    assert source.get("ONLY_IN_FILE") == "first"
    dotenv.write_text("ONLY_IN_FILE=second\n")  # changed after: not seen
    assert source.get("ONLY_IN_FILE") == "first"


def test_missing_file_or_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert EnvSecretSource({}, tmp_path / "absent.env").get("X") is None

    # dotenv_values(None) would search parent directories for some other .env.
    def must_not_parse(*args: object, **kwargs: object) -> dict[str, str | None]:
        raise AssertionError("parsed a file although none was given")

    monkeypatch.setattr("atende.adapters.env_secrets.dotenv_values", must_not_parse)
    assert EnvSecretSource({}, None).get("X") is None


def test_default_reads_os_environ_and_dotenv_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("ATENDE_TEST_FILE_SECRET=file\n")
    monkeypatch.chdir(tmp_path)
    source = EnvSecretSource()
    monkeypatch.setenv("ATENDE_TEST_ENV_SECRET", "env")  # set after construction: still seen
    assert source.get("ATENDE_TEST_ENV_SECRET") == "env"
    assert source.get("ATENDE_TEST_FILE_SECRET") == "file"
