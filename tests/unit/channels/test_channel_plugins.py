"""Each channel's one typed declaration (`wiring.PLUGIN`), the registry that lists them, and
how the composition root uses them: no look-up by attribute name, and a webhook loads no
other channel's code."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from functools import partial

import pytest

import atende.channels
from atende.bootstrap import Container, NoSenderError
from atende.channels.plugin import ChannelPlugin, ScheduledJob
from atende.channels.registry import (
    UnknownChannelError,
    channel_names,
    plugin,
    plugins,
    scheduled_job,
)
from atende.config import Settings
from atende.errors import ConfigurationError
from atende.process_inbound.decisions import DEFAULT_TEXT_LIMIT


def _packages_with_wiring() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules(atende.channels.__path__)
        if module.ispkg
        and importlib.util.find_spec(f"atende.channels.{module.name}.wiring") is not None
    )


def test_every_package_with_a_wiring_is_registered_under_its_own_name() -> None:
    assert channel_names() == _packages_with_wiring()
    assert [declared.name for declared in plugins()] == channel_names()


@pytest.mark.parametrize("channel", channel_names())
def test_each_wiring_exports_one_plugin_and_nothing_else(channel: str) -> None:
    module = importlib.import_module(f"atende.channels.{channel}.wiring")
    defined_here = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    }
    assert defined_here == set()
    declarations = [v for v in vars(module).values() if isinstance(v, ChannelPlugin)]
    assert declarations == [module.PLUGIN]


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(UnknownChannelError):
        plugin("carrier_pigeon")


def test_every_job_is_found_by_its_function_name_and_only_by_it() -> None:
    jobs = [job for declared in plugins() for job in declared.jobs]
    assert sorted(job.name for job in jobs) == [
        "apple_calendar_poll",
        "google_calendar_watch",
        "youtube_renew",
    ]
    for job in jobs:
        assert scheduled_job(job.name) is job
    assert scheduled_job("youtube") is None
    assert scheduled_job("whatsapp_webhook") is None


def test_a_sending_channel_declares_a_text_limit_and_only_such_a_channel() -> None:
    limits = {declared.name: declared.text_limit for declared in plugins()}
    assert limits == {
        "apple_calendar": None,
        "discord": 2000,
        "google_calendar": None,
        "instagram": 1000,
        "linkedin": 1250,
        "messenger": 2000,
        "tiktok": None,
        "whatsapp": 4096,
        "youtube": None,
    }
    for declared in plugins():
        assert (declared.provider_api is None) == (declared.text_limit is None)


def _factory(_deps: object) -> object:
    raise AssertionError("never built")


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"provider_api": _factory}, "text limit"),
        ({"text_limit": 100}, "text limit"),
        ({"provider_api": _factory, "text_limit": 0}, "positive"),
        ({"webhook_secrets": frozenset({"X"})}, "no webhook"),
        ({"send_secrets": frozenset({"X"})}, "no provider API"),
        (
            {
                "jobs": (
                    ScheduledJob("x_job", _factory, frozenset(), frozenset()),
                    ScheduledJob("x_job", _factory, frozenset(), frozenset()),
                )
            },
            "repeat",
        ),
    ],
)
def test_a_declaration_that_cannot_be_deployed_as_written_is_refused(
    fields: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        ChannelPlugin(name="x", **fields)  # type: ignore[arg-type]


def _container() -> Container:
    return Container(Settings(secrets_backend="env", _env_file=None))  # type: ignore[call-arg]


def test_the_container_takes_text_limits_from_the_plugins() -> None:
    app = _container()
    assert app.text_limit("whatsapp") == 4096
    assert app.text_limit("linkedin") == 1250
    assert app.text_limit("google_calendar") == DEFAULT_TEXT_LIMIT  # sends nothing
    assert app.text_limit("carrier_pigeon") == DEFAULT_TEXT_LIMIT


def test_the_container_refuses_parts_a_channel_does_not_have() -> None:
    app = _container()
    with pytest.raises(ConfigurationError, match="no webhook"):
        app.webhook("apple_calendar")
    with pytest.raises(ConfigurationError, match="no calendar sync"):
        app.calendar_sync("whatsapp")
    with pytest.raises(ConfigurationError, match="no scheduled job"):
        app.job("youtube")
    with pytest.raises(NoSenderError):
        app.sender("youtube")
    with pytest.raises(UnknownChannelError):
        app.webhook("carrier_pigeon")


def test_the_container_builds_a_job_once_from_its_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_APPLE_CALENDAR_CALENDARS", "{}")
    app = _container()
    job = app.job("apple_calendar_poll")
    assert isinstance(job, partial)
    assert app.job("apple_calendar_poll") is job


def test_a_channel_whose_code_cannot_load_is_retried_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_deps: object) -> object:
        raise ModuleNotFoundError("No module named 'a_dependency'")

    app = _container()
    declared = plugin("whatsapp")
    monkeypatch.setattr(
        app,
        "_plugin",
        lambda _channel: ChannelPlugin(
            name=declared.name, provider_api=broken, text_limit=declared.text_limit
        ),
    )
    with pytest.raises(ConfigurationError) as raised:
        app.sender("whatsapp")
    assert raised.value.code == "channel_unavailable"


_PROBE = """
import json, sys
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.plugin import ChannelDeps
from atende.channels.registry import plugin, plugins
from atende.config import Settings

declared = plugins()
after_declarations = sorted(sys.modules)
deps = ChannelDeps(Settings(_env_file=None), EnvSecretSource(environ={}, dotenv_path=None),
                   None, lambda: None, lambda: None)
plugin("whatsapp").connector(deps)
print(json.dumps({"declarations": after_declarations, "webhook": sorted(sys.modules)}))
"""


def test_declarations_are_cheap_and_a_webhook_loads_only_its_own_channel() -> None:
    # A fresh interpreter: what this one has imported says nothing.
    run = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(run.stdout)
    heavy = ("connector", "client", "parse", "verify", "api", "sync", "job", "watch", "renew")
    channel_code = [
        name
        for name in loaded["declarations"]
        if name.startswith("atende.channels.") and name.rsplit(".", 1)[-1] in heavy
    ]
    # TikTok's settings take their default tolerance from its (small) verify module.
    assert channel_code == ["atende.channels.tiktok.verify"]
    assert "requests" not in loaded["declarations"]
    by_webhook = set(loaded["webhook"]) - set(loaded["declarations"])
    packages = {name.split(".")[2] for name in by_webhook if name.startswith("atende.channels.")}
    assert packages & set(channel_names()) == {"whatsapp"}
    assert "atende.channels.whatsapp.client" not in by_webhook  # the webhook sends nothing
