"""Facebook Messenger (Messenger Platform): webhook, parsing, Send API, errors."""
