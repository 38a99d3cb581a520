"""Google Calendar connector: push notices (headers only), incremental sync of events with
sync tokens, watch channel renewal, and creating or changing appointments."""
