"""Instagram Messaging (Messenger Platform) and comment webhooks: parsing, Send API, comment
replies, errors."""
