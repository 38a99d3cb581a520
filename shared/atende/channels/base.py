"""What channels share besides their plugin (plugin.py): the usual acknowledgement of a
delivery, and the shape of a simulated one."""

from __future__ import annotations

from dataclasses import dataclass

from atende.ports import WebhookResponse

#: The answer most providers expect once a delivery is safely enqueued.
ACCEPTED = WebhookResponse(200, "EVENT_RECEIVED")


@dataclass(frozen=True)
class SimulatedDelivery:
    """A realistic, correctly signed provider request for `atende simulate <channel>`."""

    body: bytes
    headers: dict[str, str]
    method: str = "POST"
    query: dict[str, str] | None = None
