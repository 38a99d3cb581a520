"""TikTok webhook connector: TikTok-Signature verification with replay protection, and
TikTok's events (authorization, Content Posting, comments) as internal events. Inbound only:
TikTok offers no API to answer a webhook event."""
