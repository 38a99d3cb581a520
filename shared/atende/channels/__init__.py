"""Channel connectors: one package per provider (verify, parse, outbound, errors)."""
