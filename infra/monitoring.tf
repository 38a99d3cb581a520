# Log-based metrics and their alerts. The functions log one JSON object per line in Cloud
# Logging's structured format: custom fields are under jsonPayload, the context labels
# (channel, tenant_id) under labels, and gen2 functions log as cloud_run_revision.
#
#   metric                      counts the log line                                  written by
#   atende/dedupe_hits          jsonPayload.outcome = "duplicate"                     process_inbound ("inbound task handled"), agent_reply
#   atende/breaker_open         jsonPayload.outcome = "breaker_open" (a send refused   send_outbound via entrypoints/http.py,
#                               by the open circuit), or "AI suggestion failed" with   process_inbound (atende.adapters.openai_client)
#                               jsonPayload.reason = "breaker_open"
#   atende/send_failures        message "send failed" (permanent; jsonPayload.error)  send_outbound (atende.send_outbound.sender)
#   atende/ai_fallbacks         jsonPayload.outcome = "ai_fallback"                   process_inbound (atende.process_inbound.processor)
#   atende/rejected_deliveries  jsonPayload.outcome starts with "rejected_"           webhooks (atende.webhook.edge): bad or missing
#                                                                                     signature, refused handshake, oversized or
#                                                                                     malformed body
#   atende/dead_letters         message "dead letter recorded" and                    process_inbound, send_outbound
#                               jsonPayload.outcome = "dead_lettered": one line per   (atende.tasks.dead_letters), on a
#                               new dead letter (jsonPayload.function, kind, error)   task's last attempt
#                               or jsonPayload.outcome = "dead_letter_lost": the
#                               dead letter itself could not be written (Firestore
#                               down on the last attempt), so the work is gone
#
# Thresholds come from var.alert_thresholds; a metric it does not name (dead_letters) alerts
# on any count above 0: every dead letter is work an operator must replay.

locals {
  log_source = "resource.type=\"cloud_run_revision\""

  log_metrics = {
    dedupe_hits = {
      description = "Events and agent requests found already done (a provider or queue redelivery)."
      filter      = "${local.log_source} AND jsonPayload.outcome=\"duplicate\""
      labels      = { channel = "EXTRACT(jsonPayload.channel)" }
      alert       = "Many redeliveries: a provider or the queue is retrying work that was done (a slow or failing acknowledgement?)."
    }
    breaker_open = {
      description = "Calls refused by an open circuit breaker (provider sends or the AI)."
      filter      = "${local.log_source} AND (jsonPayload.outcome=\"breaker_open\" OR (jsonPayload.reason=\"breaker_open\" AND jsonPayload.message=~\"^AI suggestion failed\"))"
      labels      = { channel = "EXTRACT(jsonPayload.channel)" }
      alert       = "A circuit breaker is open: a provider API or the AI endpoint keeps failing. Sends are retried by the queue; answers fall back to the deterministic engine."
    }
    send_failures = {
      description = "Replies that failed permanently (recorded as failed, not retried)."
      filter      = "${local.log_source} AND jsonPayload.message=\"send failed\""
      labels      = { channel = "EXTRACT(jsonPayload.channel)", error = "EXTRACT(jsonPayload.error)" }
      alert       = "Replies are failing permanently (the error label says why: outside the 24-h window, invalid payload, revoked token...)."
    }
    ai_fallbacks = {
      description = "Answers where the AI step failed or was refused and the deterministic reply was used."
      filter      = "${local.log_source} AND jsonPayload.outcome=\"ai_fallback\""
      labels      = { reason = "EXTRACT(jsonPayload.reason)" }
      alert       = "The AI step keeps falling back to the deterministic engine (the reason label: timeout, breaker_open, invalid output...)."
    }
    rejected_deliveries = {
      description = "Webhook deliveries refused: bad or missing signature, refused handshake, oversized or malformed body."
      filter      = "${local.log_source} AND jsonPayload.outcome=~\"^rejected_\""
      labels      = { channel = "EXTRACT(jsonPayload.channel)", outcome = "EXTRACT(jsonPayload.outcome)" }
      alert       = "Webhooks are refusing deliveries: a rotated or wrong app secret, or someone posting forged requests."
    }
    dead_letters = {
      description = "Work a task could not finish by its last attempt, kept as a dead letter (an unanswered message, an unsent reply)."
      filter      = "${local.log_source} AND ((jsonPayload.outcome=\"dead_lettered\" AND jsonPayload.message=\"dead letter recorded\") OR jsonPayload.outcome=\"dead_letter_lost\")"
      labels      = { function = "EXTRACT(jsonPayload.function)", kind = "EXTRACT(jsonPayload.kind)", error = "EXTRACT(jsonPayload.error)" }
      alert       = "Work ran out of queue attempts and is now a dead letter: a message may be unanswered or a reply unsent until it is replayed. List them with `atende dead-letters list`, fix the cause (the error label), then `atende dead-letters replay`. See docs/deploy.md, \"Dead letters\"."
    }
  }
}

resource "google_logging_metric" "atende" {
  for_each = local.log_metrics

  project     = var.project_id
  name        = "atende/${each.key}"
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key         = labels.key
        value_type  = "STRING"
        description = "From the log line's ${labels.key}."
      }
    }
  }

  label_extractors = each.value.labels
}

# Cloud Monitoring sees a new log-based metric only some minutes after Cloud Logging created
# it: an alert policy created before then is refused with 404 "Cannot find metric(s) that
# match type ... If a metric was created recently, it could take up to 10 minutes to become
# available" (terraform-provider-google issue #11102, open: the provider does not retry it).
# So the alerts wait for this sleep, and the sleep for every metric. Its triggers are the
# metrics' names: it is created (and waits) on the first apply and again whenever a metric is
# added, renamed or removed, and on no other apply. A changed filter or description keeps the metric,
# its name and the sleep. The wait runs while the functions build (10-20 minutes on a first
# apply), so it rarely lengthens the apply.
# time_sleep: https://registry.terraform.io/providers/hashicorp/time/0.13.1/docs/resources/sleep
resource "time_sleep" "log_metrics_visible" {
  create_duration = "10m"
  triggers        = { for key, metric in google_logging_metric.atende : key => metric.name }
}

resource "google_monitoring_alert_policy" "atende" {
  for_each = local.log_metrics

  # After the wait: the filter below names the metric, which orders the alert after it, but
  # the metric must also be visible to Cloud Monitoring (above).
  depends_on = [time_sleep.log_metrics_visible]

  project               = var.project_id
  display_name          = "Atende ${var.environment}: ${replace(each.key, "_", " ")}"
  combiner              = "OR"
  enabled               = var.alerts_enabled
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "${replace(each.key, "_", " ")} above ${lookup(var.alert_thresholds, each.key, 0)} in ${var.alert_window_seconds} s"

    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.atende[each.key].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = lookup(var.alert_thresholds, each.key, 0)
      duration        = "0s"

      aggregations {
        alignment_period     = "${var.alert_window_seconds}s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "${each.value.alert}\n\nLogs: `${each.value.filter}`. See docs/deploy.md, \"Logs, metrics and alerts\"."
  }
}
