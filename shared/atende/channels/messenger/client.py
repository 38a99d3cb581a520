"""The Messenger Send API: text, attachments and quick replies from the page."""

from __future__ import annotations

from collections.abc import Callable

from atende.channels.messenger.outbound import LIMITS
from atende.channels.meta.client import MetaSendApi


def messenger_api(api_base_url: str, access_token: Callable[[], str | None]) -> MetaSendApi:
    return MetaSendApi("Messenger", api_base_url, access_token, LIMITS)
