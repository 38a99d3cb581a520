"""Messenger's documented Send API limits: `message.text` is UTF-8 of at most 2000
characters; quick replies (13, titles of 20) are shared with Instagram in meta/outbound.py."""

from __future__ import annotations

from atende.channels.meta.outbound import SendLimits

MAX_TEXT = 2000
LIMITS = SendLimits(text_chars=MAX_TEXT)
