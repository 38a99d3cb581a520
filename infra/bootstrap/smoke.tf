# The smoke check after every deploy (cloudbuild-smoke.yaml: `atende smoke`). It signs a test
# delivery with a webhook secret, reads the smoke session's outbox, runs a scheduled job and
# searches the workers' logs, so it runs as an account of its own: the deployer never reads a
# secret value, and the CI account can deploy nothing and read nothing.
#
# A Pub/Sub trigger on the `cloud-builds` topic (Cloud Build publishes every build's status
# there once the topic exists) starts it after each successful deploy build; docs/deploy.md
# gives the command.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # The secrets `atende smoke` reads: the WhatsApp app secret (signs the test delivery) and
  # the Meta verify tokens (the right-token handshake). Their ids are atende.deployment's.
  smoke_secrets = ["whatsapp-app-secret", "whatsapp-verify-token", "messenger-verify-token", "instagram-verify-token"]
  # Secret Manager evaluates conditions on the secret or version name,
  # projects/<number>/secrets/<id>[/versions/<version>].
  smoke_secret_condition = join(" || ", flatten([
    for id in local.smoke_secrets : [
      "resource.name == \"projects/${data.google_project.this.number}/secrets/${id}\"",
      "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/${id}/\")",
    ]
  ]))
  smoke_roles = {
    # Stores the smoke tenant's configuration when it is absent and reads its outbox records.
    # Firestore's IAM cannot be narrowed to a collection: this account reads every tenant's
    # data, so its trigger runs only for the deployed branch (docs/deploy.md).
    "roles/datastore.user" = "the smoke tenant's configuration and outbox"
    # Runs one scheduled job and reads its last attempt's status.
    "roles/cloudscheduler.jobRunner" = "cloudscheduler.jobs.run"
    "roles/cloudscheduler.viewer"    = "cloudscheduler.jobs.get"
    # Searches the workers' logs for authentication failures.
    "roles/logging.viewer" = "logging.logEntries.list"
    # Its own build logs (logging: CLOUD_LOGGING_ONLY).
    "roles/logging.logWriter" = "the smoke build's logs"
  }
}

resource "google_service_account" "smoke" {
  project      = var.project_id
  account_id   = "atende-smoke"
  display_name = "Atende smoke check (after every deploy)"
  description  = "Runs cloudbuild-smoke.yaml: atende smoke against the deployed functions."

  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "smoke" {
  for_each = local.smoke_roles

  project = var.project_id
  role    = each.key
  member  = "serviceAccount:${google_service_account.smoke.email}"
}

# The secrets are created later, by infra/: a project-level grant limited by condition to
# their names, so it holds from their first version on and reaches no other secret.
resource "google_project_iam_member" "smoke_secrets" {
  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = "serviceAccount:${google_service_account.smoke.email}"

  condition {
    title       = "atende-smoke-secrets"
    description = "Only the secrets atende smoke signs and handshakes with."
    expression  = local.smoke_secret_condition
  }
}

# Cloud Build publishes each build's status to this topic when it exists; the smoke trigger
# listens to it, filtered on the deploy trigger's successful builds.
resource "google_pubsub_topic" "cloud_builds" {
  #checkov:skip=CKV_GCP_83:The topic carries only Cloud Build's status messages (build ids, statuses, trigger ids), no customer data; Google-managed encryption is enough, and a customer key would have to be granted to Cloud Build's service agent.
  project = var.project_id
  name    = "cloud-builds"

  depends_on = [google_project_service.api]
}
