"""`atende smoke`: after a deploy, check that the deployment answers.

Four checks, each a small module with its cloud and local adapters behind a port:
webhooks (`webhooks`), a signed delivery for the smoke tenant followed to its dry-run send
(`delivery`), a scheduled job run (`jobs`), and the workers' logs searched for
authentication failures (`logs`). `runner` runs them in order and reports one line each.
"""
