"""The optional AI step: its contract, the prompt, the validation and the OpenAI client."""
