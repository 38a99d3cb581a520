# What infra/ and its pipeline need before their first run: the APIs, the Terraform state
# bucket, the bundles bucket between the CI build and the deploy build, and the two build
# identities with their grants (deployer.tf, ci.tf). It replaces the gcloud commands of the
# old docs/deploy.md steps 1-2.

locals {
  state_bucket   = var.state_bucket != "" ? var.state_bucket : "${var.project_id}-tfstate"
  bundles_bucket = "${var.project_id}-atende-bundles"
  # infra/functions.tf's google_storage_bucket.sources (tests/unit/test_infra_deployer.py
  # checks the two names agree): the deployer uploads the function bundles there.
  sources_bucket = "${var.project_id}-atende-sources"

  apis = toset(concat([
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudtasks.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "secretmanager.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    # The cloud-builds topic that starts the smoke check after each deploy (smoke.tf).
    "pubsub.googleapis.com",
  ], var.google_calendar_api ? ["calendar-json.googleapis.com"] : []))
}

# disable_on_destroy = false: destroying the bootstrap (or dropping an API from the list)
# must not switch off an API the deployed functions use.
resource "google_project_service" "api" {
  for_each = local.apis

  project            = var.project_id
  service            = each.key
  disable_on_destroy = false
}

# infra/'s state, one prefix per environment (atende/<env>). Versioned, so a previous state
# can be restored; it holds no secret values. The deployer reads and writes objects here
# (state and lock file) and nothing else.
resource "google_storage_bucket" "state" {
  #checkov:skip=CKV_GCP_62:Access logs of the state bucket would duplicate Cloud Audit Logs, which record who changed it.
  project                     = var.project_id
  name                        = local.state_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_project_service.api]
}

# The tested bundles: the CI build (atende-ci) writes gs://<bucket>/<commit sha>/<CI build
# id>/ (bundles.tar.gz, manifest.json); the deploy build (atende-deployer) only reads them.
# The CI account may create objects but not overwrite or delete them (objectCreator), so no
# build can replace bundles another build wrote.
resource "google_storage_bucket" "bundles" {
  #checkov:skip=CKV_GCP_62:Access logs of build outputs would duplicate Cloud Audit Logs.
  #checkov:skip=CKV_GCP_78:Objects are never overwritten (the CI account cannot), so versions would add nothing; each build writes under its own build id.
  project                     = var.project_id
  name                        = local.bundles_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age = var.bundle_retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

# Who may approve a pending build (the production trigger requires approval):
# https://cloud.google.com/build/docs/automating-builds/approve-builds
resource "google_project_iam_member" "approver" {
  for_each = toset(var.approvers)

  project = var.project_id
  role    = "roles/cloudbuild.builds.approver"
  member  = each.key
}
