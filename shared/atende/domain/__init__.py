"""Pure domain models: events, sessions, outbox records, audit entries. No I/O."""
