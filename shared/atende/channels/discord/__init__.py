"""Discord connector: the interactions endpoint (Ed25519-signed slash commands, components
and modal submits, answered with a deferred response and a follow-up) and Webhook Events."""
