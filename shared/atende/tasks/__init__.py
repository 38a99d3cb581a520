"""What the hops hand each other: task contracts, follow-up tasks, dead letters."""
