"""Every channel, by name: a new channel adds its package and one entry here (a test checks
that every package with a `wiring` module is listed).

Each entry imports its channel's `wiring` only when asked for it, so a webhook instance loads
its own channel's declaration and no other's. Reading them all (the deployment, the look-up
of a scheduled job) stays cheap: a declaration imports only its channel's settings and limits.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType

from atende.channels.plugin import ChannelPlugin, ScheduledJob


class UnknownChannelError(LookupError):
    """No channel has this name."""


def _apple_calendar() -> ChannelPlugin:
    from atende.channels.apple_calendar.wiring import PLUGIN

    return PLUGIN


def _discord() -> ChannelPlugin:
    from atende.channels.discord.wiring import PLUGIN

    return PLUGIN


def _google_calendar() -> ChannelPlugin:
    from atende.channels.google_calendar.wiring import PLUGIN

    return PLUGIN


def _instagram() -> ChannelPlugin:
    from atende.channels.instagram.wiring import PLUGIN

    return PLUGIN


def _linkedin() -> ChannelPlugin:
    from atende.channels.linkedin.wiring import PLUGIN

    return PLUGIN


def _messenger() -> ChannelPlugin:
    from atende.channels.messenger.wiring import PLUGIN

    return PLUGIN


def _tiktok() -> ChannelPlugin:
    from atende.channels.tiktok.wiring import PLUGIN

    return PLUGIN


def _whatsapp() -> ChannelPlugin:
    from atende.channels.whatsapp.wiring import PLUGIN

    return PLUGIN


def _youtube() -> ChannelPlugin:
    from atende.channels.youtube.wiring import PLUGIN

    return PLUGIN


_PLUGINS: Mapping[str, Callable[[], ChannelPlugin]] = {
    "apple_calendar": _apple_calendar,
    "discord": _discord,
    "google_calendar": _google_calendar,
    "instagram": _instagram,
    "linkedin": _linkedin,
    "messenger": _messenger,
    "tiktok": _tiktok,
    "whatsapp": _whatsapp,
    "youtube": _youtube,
}


def channel_names() -> list[str]:
    """Every channel's name, sorted."""
    return sorted(_PLUGINS)


def plugin(channel: str) -> ChannelPlugin:
    """The channel's declaration; UnknownChannelError if there is no such channel."""
    load = _PLUGINS.get(channel)
    if load is None:
        raise UnknownChannelError(channel)
    return load()


def plugins() -> list[ChannelPlugin]:
    """Every channel's declaration, sorted by name."""
    return [plugin(name) for name in channel_names()]


def scheduled_job(name: str) -> ScheduledJob | None:
    """The scheduled job deployed as the function `name`, None if no channel has one."""
    for declared in plugins():
        for job in declared.jobs:
            if job.name == name:
                return job
    return None


def dev_env(sandbox_url: str) -> dict[str, str]:
    """Every channel's dev-only settings and secrets (`sample.dev_env(sandbox_url)`): what
    the local stack gives the functions so that each channel talks to the sandbox. Samples
    are dev and test tools, not part of a plugin: found by module name."""
    env: dict[str, str] = {}
    for channel in channel_names():
        sample: ModuleType = importlib.import_module(f"atende.channels.{channel}.sample")
        build = getattr(sample, "dev_env", None)
        if build is not None:
            env.update(build(sandbox_url))
    return env
