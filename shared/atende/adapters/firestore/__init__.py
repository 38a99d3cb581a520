"""Firestore adapters: sessions, dedupe, outbox and audit, with transactional version checks."""
