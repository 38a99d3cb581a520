"""Use cases: the webhook edge, inbound processing and outbound sending. They take ports."""
