"""What the Meta products (WhatsApp, Messenger, Instagram) share: the Graph API's webhook
signature and handshake, and how its error answers map to retry or record."""
