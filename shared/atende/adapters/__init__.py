"""Adapters: the implementations of the ports in `atende.ports` (Google Cloud and local ones).

Only `atende.bootstrap` chooses and imports them; heavy client libraries are imported lazily
inside each adapter so a function pays only for the ones it uses.
"""
