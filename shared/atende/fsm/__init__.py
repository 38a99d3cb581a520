"""The conversation state machine: states, the transition table and its guards. Pure."""
