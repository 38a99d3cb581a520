"""The `atende` command: talks to a running local stack and packages the functions."""
