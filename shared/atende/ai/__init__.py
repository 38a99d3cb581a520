"""The optional AI step: its contract, the prompt and the validation (pure; the client that
calls the endpoint is `atende.adapters.openai_client`)."""
