# One Cloud Function (2nd gen) deployed from its bundle (build/<name>/), with its own service
# account and exactly the access it needs: the secrets it reads, Firestore if it uses it, the
# queues it enqueues to, and who may invoke it.

locals {
  source_dir = "${var.bundles_path}/${var.name}"
  # Service account ids are 6-30 characters; long names keep a readable start and a hash.
  account_id_full = "atende-${replace(var.name, "_", "-")}"
  account_id      = length(local.account_id_full) <= 30 ? local.account_id_full : "${substr(local.account_id_full, 0, 21)}-${substr(sha1(var.name), 0, 8)}"
}

# One service account per function: a secret bound to it reaches this function and no other.
resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = local.account_id
  display_name = "Atende ${var.name}"
  description  = "Runs the ${var.name} function (${var.kind})."
}

data "archive_file" "bundle" {
  type             = "zip"
  source_dir       = local.source_dir
  output_path      = "${var.bundles_path}/_archives/${var.name}.zip"
  output_file_mode = "0644"
  excludes         = ["__pycache__", "**/__pycache__"]

  lifecycle {
    precondition {
      condition     = fileexists("${local.source_dir}/main.py") && fileexists("${local.source_dir}/requirements.txt")
      error_message = "The bundle ${local.source_dir} is missing or incomplete: run `make package` at the repository root first."
    }
  }
}

# Named by the archive's hash: changed code is a new object, which changes the function's
# source and redeploys it; unchanged code plans no change at all.
resource "google_storage_bucket_object" "bundle" {
  bucket       = var.source_bucket
  name         = "${var.name}/${data.archive_file.bundle.output_sha256}.zip"
  source       = data.archive_file.bundle.output_path
  content_type = "application/zip"

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_secret_manager_secret_iam_member" "access" {
  for_each = var.secrets

  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.this.email}"
}

resource "google_project_iam_member" "firestore" {
  count = var.firestore ? 1 : 0

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.this.email}"
}

resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = var.enqueue_queues

  project  = var.project_id
  location = var.region
  name     = each.value
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.this.email}"
}

# Creating a task that carries an OIDC token of the invoker service account requires
# acting as that account (iam.serviceAccounts.actAs), on that account only.
resource "google_service_account_iam_member" "act_as_tasks_invoker" {
  count = length(var.enqueue_queues) > 0 ? 1 : 0

  service_account_id = var.tasks_service_account_id
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.this.email}"
}

resource "google_cloudfunctions2_function" "this" {
  #checkov:skip=CKV_GCP_124:Ingress stays open on purpose. Providers call the webhooks from the internet; Cloud Tasks and Cloud Scheduler call workers and jobs at the cloudfunctions.net URL (the audience the code checks), and Cloud Run counts them as internal only at the run.app URL. Private functions are guarded by IAM (run.invoker for the invoker service account only) and by the code's OIDC checks.
  project     = var.project_id
  location    = var.region
  name        = var.name
  description = var.description
  labels      = merge(var.labels, { function-kind = var.kind })

  build_config {
    runtime         = var.runtime
    entry_point     = var.name
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = var.source_bucket
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    available_memory                 = var.scaling.memory
    available_cpu                    = var.scaling.cpu
    max_instance_request_concurrency = var.scaling.concurrency
    timeout_seconds                  = var.scaling.timeout_seconds
    min_instance_count               = var.scaling.min_instances
    max_instance_count               = var.scaling.max_instances
    environment_variables            = var.environment
    service_account_email            = google_service_account.this.email
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
  }

  # The first instance must find its grants in place: an instance that cannot read a secret
  # treats it as missing until it is replaced.
  depends_on = [
    google_secret_manager_secret_iam_member.access,
    google_project_iam_member.firestore,
    google_cloud_tasks_queue_iam_member.enqueuer,
    google_service_account_iam_member.act_as_tasks_invoker,
  ]
}

# Public through allUsers as run.invoker: the only way Terraform can make a 2nd-gen function
# public. Cloud Run's recommended alternative, turning the invoker IAM check off
# (https://cloud.google.com/run/docs/authenticating/public#invoker_check), is
# `invoker_iam_disabled` on google_cloud_run_v2_service only: google_cloudfunctions2_function
# has no such argument in provider 6.50.0, because the Cloud Functions v2 API has no such field
# (terraform-provider-google issue #23360, open). An organization enforcing domain restricted
# sharing (iam.allowedPolicyMemberDomains or iam.managed.allowedPolicyMembers) refuses this
# binding; the project then needs the exception in docs/deploy.md, "Public webhooks and
# domain restricted sharing".
resource "google_cloud_run_service_iam_member" "public" {
  #checkov:skip=CKV_GCP_102:Public on purpose (webhooks, and agent_reply when no CRM members are given): providers cannot present Google credentials. Each such function authenticates every request itself, fail-closed (provider signatures, verify tokens, the agent Bearer token).
  count = var.public ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this.service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = var.invoker_members

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this.service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}
