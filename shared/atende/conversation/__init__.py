"""The conversation step: what to answer to a message, given the session's state."""
