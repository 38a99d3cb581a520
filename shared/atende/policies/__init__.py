"""Deterministic policies that run before any AI: abuse, opt-out, handoff, hours, routing."""
