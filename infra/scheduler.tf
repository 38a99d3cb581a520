# Cloud Scheduler calls each job function: HTTP POST with an OIDC token of the invoker
# service account, audience = the function's URL (what the job checks, like a worker).
# A failed run (503) is retried a few times; the next scheduled run comes anyway.
resource "google_cloud_scheduler_job" "job" {
  for_each = local.jobs

  project          = var.project_id
  region           = var.region
  name             = "atende-${replace(each.key, "_", "-")}"
  description      = each.value.description
  schedule         = each.value.schedule
  time_zone        = var.scheduler_time_zone
  paused           = each.value.paused
  attempt_deadline = "${min(1800, max(15, var.function_settings["job"].timeout_seconds + 30))}s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "300s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = "${local.functions_base_url}/${each.key}"

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = "${local.functions_base_url}/${each.key}"
    }
  }

  depends_on = [module.job]
}
