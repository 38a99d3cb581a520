# The CI build (cloudbuild-ci.yaml: lint, tests, package) runs the repository's code and every
# dependency it installs, so it runs as an account with no deploy rights: it may write its
# build logs and create (never overwrite, never read) objects in the bundles bucket. Cloud
# Build fetches a triggered build's source itself; the account needs no role for that.
resource "google_service_account" "ci" {
  project      = var.project_id
  account_id   = "atende-ci"
  display_name = "Atende CI (lint, tests, package)"
  description  = "Runs cloudbuild-ci.yaml: the repository's code and dependencies. No deploy rights."

  depends_on = [google_project_service.api]
}

# A user-specified build service account needs to write the build's logs (logging:
# CLOUD_LOGGING_ONLY in both cloudbuild files).
resource "google_project_iam_member" "ci_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.ci.email}"
}

# storage.objects.create only: overwriting an object also needs storage.objects.delete.
resource "google_storage_bucket_iam_member" "ci_bundles" {
  bucket = google_storage_bucket.bundles.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.ci.email}"
}
