"""The providers: one package per channel (verify, parse, outbound, errors, settings, sample,
and its plugin in `wiring.py`), listed in registry.py; graph/ holds what the Meta products
share."""
