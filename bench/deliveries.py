"""Signed WhatsApp deliveries of a chosen size, built with the same helpers as the tests."""

from __future__ import annotations

from atende.channels.graph.signature import signature_for
from atende.channels.whatsapp import sample

APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = sample.DEV_PHONE_NUMBER_ID
_FILLER = "Olá, gostaria de saber o horário de funcionamento da loja e se há entrega. "


def delivery(size: int, *, messages: int = 1, serial: int = 0, contact: str | None = None) -> bytes:
    """A delivery of `messages` text messages whose encoded size is about `size` bytes
    (the texts carry the padding); message ids are unique per `serial`."""
    contact = contact or f"55119{serial % 100_000:08d}"
    items = [
        sample.text_message(contact, "", message_id=f"wamid.bench.{serial}.{n}", timestamp=1)
        for n in range(messages)
    ]
    bare = len(sample.encode(sample.delivery(items)))
    room = max(size - bare, messages) // messages
    for item in items:
        text = (_FILLER * (room // len(_FILLER) + 1)).encode()[:room]
        item["text"]["body"] = text.decode("utf-8", "ignore")
    return sample.encode(sample.delivery(items))


def headers(body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-hub-signature-256": signature_for(body, APP_SECRET),
    }
