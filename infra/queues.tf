# The two Cloud Tasks queues (names = atende.config.Settings defaults, given to every function
# as ATENDE_INBOUND_QUEUE / ATENDE_OUTBOUND_QUEUE).
#
# Retries follow the workers' contract (docs/architecture.md): 2xx = done (including
# duplicates and recorded permanent failures), 503 = try again later, and "later" includes
# ordinary waiting — an answer whose 1-s hold has not ended, a reply waiting for an earlier
# one, a session whose Firestore transaction lost a conflict. So:
#   - min backoff 1 s: the common 503s are short waits (the hold is 1 s);
#   - 4 doublings (1, 2, 4, 8, 16 s), then +16 s per attempt up to the 300-s cap: a waiting
#     reply is re-checked often at first, and a provider outage is not hammered;
#   - 50 attempts: about 3 hours of retrying (31 s + 2720 s + 27 x 300 s), enough to ride out
#     a provider or Firestore outage; unbounded duration, the attempts are the limit.
#
# Rates:
#   - outbound: 60 dispatches/s. One queue carries every channel's sends; WhatsApp's default
#     throughput is 80 messages/s per business phone number, so the whole queue stays under
#     what a single number may send even in a burst, with 25 % left for retried attempts
#     (a 503 "wait for the earlier reply" is a dispatch too). Messenger and Instagram limit
#     per page over 24 h, LinkedIn per day, Discord per interaction: all far above this.
#     variables.tf refuses more than 80/s.
#   - inbound: 100 dispatches/s, at most 150 at once, below what process_inbound can take
#     (max instances x concurrency = 20 x 8 = 160) so bursts queue here instead of being
#     refused by Cloud Run with 429s.
#
# prevent_destroy: a plan that would delete a queue (a renamed queue variable, a removed
# resource) fails instead. A queue is deleted with the tasks still in it, and its name may be
# refused for a "tombstone window" of up to 3 days (older versions of the reference said 7):
# https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues/delete
# Removing one on purpose: docs/deploy.md, "Removing a queue or a secret on purpose".

resource "google_cloud_tasks_queue" "inbound" {
  project  = var.project_id
  location = var.region
  name     = var.inbound_queue_name

  rate_limits {
    max_dispatches_per_second = var.queue_settings["inbound"].max_dispatches_per_second
    max_concurrent_dispatches = var.queue_settings["inbound"].max_concurrent_dispatches
  }

  retry_config {
    max_attempts  = var.queue_settings["inbound"].max_attempts
    min_backoff   = "${var.queue_settings["inbound"].min_backoff_seconds}s"
    max_backoff   = "${var.queue_settings["inbound"].max_backoff_seconds}s"
    max_doublings = var.queue_settings["inbound"].max_doublings
  }

  stackdriver_logging_config {
    sampling_ratio = var.tasks_log_sampling_ratio
  }

  # Deleting the queue loses its pending tasks and, for up to 3 days, its name (above).
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_cloud_tasks_queue" "outbound" {
  project  = var.project_id
  location = var.region
  name     = var.outbound_queue_name

  rate_limits {
    max_dispatches_per_second = var.queue_settings["outbound"].max_dispatches_per_second
    max_concurrent_dispatches = var.queue_settings["outbound"].max_concurrent_dispatches
  }

  retry_config {
    max_attempts  = var.queue_settings["outbound"].max_attempts
    min_backoff   = "${var.queue_settings["outbound"].min_backoff_seconds}s"
    max_backoff   = "${var.queue_settings["outbound"].max_backoff_seconds}s"
    max_doublings = var.queue_settings["outbound"].max_doublings
  }

  stackdriver_logging_config {
    sampling_ratio = var.tasks_log_sampling_ratio
  }

  # Deleting the queue loses its pending tasks and, for up to 3 days, its name (above).
  lifecycle {
    prevent_destroy = true
  }
}
