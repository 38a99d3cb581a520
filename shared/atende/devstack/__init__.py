"""The local stack behind `make dev` and the integration/e2e tests.

Firestore emulator (java), Cloud Tasks emulator (its own virtualenv), a WhatsApp Graph API
sandbox and every function under functions/ behind one base URL, all on 127.0.0.1.
Start it all with `atende.devstack.stack.Stack`; the pieces live in the sibling modules.
"""
