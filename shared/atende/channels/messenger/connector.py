"""The Messenger webhook connector: Meta's handshake and signature with the Messenger app's
secrets, Messenger parsing, the tenant from the page id."""

from __future__ import annotations

from collections.abc import Mapping

from atende.channels.messenger.parse import PRODUCT
from atende.channels.messenger.settings import APP_SECRET, VERIFY_TOKEN
from atende.channels.meta.connector import MetaConnector
from atende.ports import SecretSource


def messenger_connector(secrets: SecretSource, tenants: Mapping[str, str]) -> MetaConnector:
    return MetaConnector(
        PRODUCT,
        "Messenger",
        secrets,
        tenants,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
    )
