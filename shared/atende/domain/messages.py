"""Channel-agnostic outbound messages the conversation asks a channel to send.

Each channel's outbound builder turns one of these into the provider's payload and checks the
provider's documented limits before anything is sent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Outbound(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextMessage(_Outbound):
    kind: Literal["text"] = "text"
    body: str
    preview_url: bool = False


class MediaMessage(_Outbound):
    kind: Literal["media"] = "media"
    media_type: Literal["image", "audio", "video", "document", "sticker"]
    #: A public URL or a provider media id: exactly one of them.
    link: str | None = None
    media_id: str | None = None
    caption: str | None = None
    filename: str | None = None


class TemplateMessage(_Outbound):
    kind: Literal["template"] = "template"
    name: str
    language: str
    #: Provider-shaped template components (header/body/button parameters).
    components: tuple[dict[str, object], ...] = ()


class Button(_Outbound):
    id: str
    title: str


class ButtonsMessage(_Outbound):
    kind: Literal["buttons"] = "buttons"
    body: str
    buttons: tuple[Button, ...]
    header: str | None = None
    footer: str | None = None


class ListRow(_Outbound):
    id: str
    title: str
    description: str | None = None


class ListSection(_Outbound):
    title: str | None = None
    rows: tuple[ListRow, ...]


class ListMessage(_Outbound):
    kind: Literal["list"] = "list"
    body: str
    button: str
    sections: tuple[ListSection, ...]
    header: str | None = None
    footer: str | None = None


OutboundMessage = Annotated[
    TextMessage | MediaMessage | TemplateMessage | ButtonsMessage | ListMessage,
    Field(discriminator="kind"),
]

OUTBOUND_MESSAGE: TypeAdapter[OutboundMessage] = TypeAdapter(OutboundMessage)
