"""WhatsApp Cloud API connector: webhook verification, parsing, outbound payloads, errors."""
