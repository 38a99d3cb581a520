# One Secret Manager secret per secret a function reads (atende.deployment), id = the name
# lower-cased with dashes (atende.deployment.secret_id: WHATSAPP_APP_SECRET ->
# whatsapp-app-secret).
#
# Terraform creates the secrets, never their values: no google_secret_manager_secret_version
# here, so no secret ever lands in the Terraform state or the plan. Versions are added out
# of band (docs/deploy.md): gcloud secrets versions add <id> --data-file=-
#
# prevent_destroy: a plan that would delete a secret (a channel dropped from functions.tf, a
# renamed secret) fails instead. Deleting a secret destroys all its versions, irreversibly
# (https://cloud.google.com/secret-manager/docs/delete-secrets): values Terraform never had
# and cannot recreate. Removing one on purpose: docs/deploy.md, "Removing a queue or
# a secret on purpose".
#
# Access is granted in modules/function, per function, to that function's own service
# account, for exactly the secrets listed for it in functions.tf.

locals {
  secret_names = toset(flatten([
    for group in [local.channels, local.workers, local.jobs, local.agents] : [
      for spec in values(group) : spec.secrets
    ]
  ]))
}

resource "google_secret_manager_secret" "secret" {
  for_each = local.secret_names

  project   = var.project_id
  secret_id = replace(lower(each.key), "_", "-")

  labels = {
    read-by = "atende"
  }

  # Automatic replication, Google-managed keys (customer_managed_encryption under auto {}
  # where policy requires a Cloud KMS key).
  replication {
    auto {}
  }

  # Deleting the secret destroys its values, added out of band (above).
  lifecycle {
    prevent_destroy = true
  }
}
