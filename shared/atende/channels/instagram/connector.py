"""The Instagram webhook connector: Meta's handshake and signature with the Instagram app's
secrets, Instagram parsing (messages and comments), the tenant from the account id."""

from __future__ import annotations

from collections.abc import Mapping

from atende.channels.instagram.parse import PRODUCT
from atende.channels.instagram.settings import APP_SECRET, VERIFY_TOKEN
from atende.channels.meta.connector import MetaConnector
from atende.ports import SecretSource


def instagram_connector(secrets: SecretSource, tenants: Mapping[str, str]) -> MetaConnector:
    return MetaConnector(
        PRODUCT,
        "Instagram",
        secrets,
        tenants,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
    )
