"""How much a session document may hold, whatever the contact sends.

Firestore refuses a document over 1 MiB, for good: a session that grew past it could never
be written again, and its conversation would be dead. So every text, list and map a session
stores is bounded here, and the store checks the encoded document against `SESSION_BUDGET`
(well below the limit) before it writes (`atende.adapters.firestore.doc_size`).

Worst case with these caps (every slot full of 4-byte emoji, ids of ordinary length):
60 history messages x ~4.5 KiB + an inbox of at most 192 KiB + 100 pending replies +
30 transitions + 20 collected fields x 4 KiB: about 520 KiB as Firestore counts it, under
the 900 KiB budget (tests/unit/domain/test_session_bounds.py measures it).
"""

from __future__ import annotations

#: Bytes (UTF-8) kept of a text the history stores: a message, a collected value, the topic.
#: 4 KiB keeps a whole WhatsApp text (4,096 characters) of plain ASCII and about 1,000
#: emoji; the rest is cut on a character boundary and `TRUNCATION_MARKER` ends it. The full
#: text of a reply stays in its outbox record.
MAX_STORED_TEXT_BYTES = 4096
TRUNCATION_MARKER = " […]"

#: Bytes kept of a text (or caption) waiting in the inbox: 16 KiB holds a whole WhatsApp
#: text (4,096 characters) even of 4-byte emoji, so the conversation answers, and the abuse
#: policy measures (`max_input_chars`), every real message as the contact wrote it.
MAX_INBOX_TEXT_BYTES = 16 * 1024

#: Messages waiting to be answered; beyond either cap the oldest are folded into the
#: history unanswered (`Session.bounded`).
MAX_INBOX_MESSAGES = 50
MAX_INBOX_BYTES = 192 * 1024


#: Required-field values kept (a tenant declares at most 20; older names may linger).
MAX_COLLECTED_FIELDS = 32

#: Message ids (16-hex-digit hashes, about 20 bytes each) a session remembers, so that a
#: redelivered message is recognised without a dedupe document of its own: 10 KB.
MAX_SEEN_MESSAGES = 500

#: What the store lets a session document weigh, as Firestore counts it: well under the
#: 1 MiB (1,048,576 bytes) limit, so an estimate that errs a little still never fails.
SESSION_BUDGET = 900 * 1024


def truncate_utf8(text: str, max_bytes: int = MAX_STORED_TEXT_BYTES) -> str:
    """`text` if it fits in `max_bytes` of UTF-8, else its head cut on a character boundary
    and ended by the marker, `max_bytes` in all. Idempotent."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max(0, max_bytes - len(TRUNCATION_MARKER.encode("utf-8")))
    # Decoding a prefix that ends inside a character drops that partial character only.
    head = data[:room].decode("utf-8", errors="ignore")
    return head + TRUNCATION_MARKER


def truncate_optional(text: str | None, max_bytes: int = MAX_STORED_TEXT_BYTES) -> str | None:
    return None if text is None else truncate_utf8(text, max_bytes)
