"""The agent desk (`agent_reply`): a person's replies and actions on a conversation."""
