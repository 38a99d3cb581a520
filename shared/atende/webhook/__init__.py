"""The webhook edge (`<channel>_webhook`): verify, parse, enqueue, answer fast."""
