"""Instagram's documented Send API limits: message text "must be less than 1000 characters"
and, in Meta's Instagram API documentation, UTF-8 of at most 1000 bytes, so both are checked.
Quick replies (13, titles of 20) are shared with Messenger in meta/outbound.py."""

from __future__ import annotations

from atende.channels.meta.outbound import SendLimits

MAX_TEXT = 1000
MAX_TEXT_BYTES = 1000
#: A public reply to a comment: Instagram's comment length.
MAX_COMMENT_REPLY = 2200
LIMITS = SendLimits(text_chars=MAX_TEXT, text_bytes=MAX_TEXT_BYTES)
