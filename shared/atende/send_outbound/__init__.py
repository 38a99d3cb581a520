"""Sending (`send_outbound`): claim a session's ready replies, send them in order, record."""
