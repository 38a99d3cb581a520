"""The Messenger Platform's documented error codes (Messenger and Instagram's Send API), for
the Graph API classifier (channels/graph/errors.py).

WhatsApp's Cloud API has codes of its own (131xxx, whatsapp/errors.py); the Messenger
Platform reports throttling as 4, 17, 32, 613 and the business-use-case limits
80001/80002/80006, "temporary send message failure" as 1200, and permanent refusals such as
10 with subcode 2018278 (outside the messaging window), 551 or subcode 1545041 (the person is
not available), 100 (invalid parameter), 190 (token) and 200-299 (permission).
"""

from __future__ import annotations

from atende.channels.graph.errors import GraphErrorCodes

#: Documented permanent refusals, kept here so the tests pin them down: none is retried.
PERMANENT_META_CODES: frozenset[int] = frozenset({10, 100, 190, 200, 230, 551})

SEND_API_CODES = GraphErrorCodes(
    transient=frozenset(
        {
            1,  # API Unknown: possibly temporary; Meta advises retrying.
            2,  # API Service: "An unexpected error has occurred. Please retry your request later."
            4,  # Application request limit reached.
            17,  # User (account-level) request limit reached.
            32,  # Page request limit reached.
            613,  # "Calls to this API have exceeded the rate limit."
            1200,  # "Temporary send message failure. Please try again later."
            80001,  # Business use case rate limit: Pages.
            80002,  # Business use case rate limit: Instagram.
            80006,  # Business use case rate limit: Messenger.
        }
    ),
    permanent_subcodes=frozenset(
        {
            2018278,  # (10) the message is outside the allowed window (24 h after the contact).
            2534022,  # (10) outside the allowed window, newer policy message.
            1545041,  # (551 / 200) this person isn't available right now.
            2018001,  # (100) no matching user found.
            2018108,  # (200) the recipient cannot be messaged by this app yet.
        }
    ),
)
