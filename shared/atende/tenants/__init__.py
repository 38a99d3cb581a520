"""Per-tenant configuration of the conversation: texts, hours, keywords, FAQ, AI, limits."""
