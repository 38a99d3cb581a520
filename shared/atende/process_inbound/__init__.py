"""Processing (`process_inbound`): admit, answer, record what the providers report."""
