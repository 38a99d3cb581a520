# The deployer: the account the deploy build (cloudbuild.yaml) runs terraform in infra/ as.
# It runs no repository code but infra/ itself (the CI build ran the tests and made the
# bundles), and holds only what the resource types infra/ declares need:
#
#   - no basic role, no roles/secretmanager.admin (it cannot read a secret's value: the
#     custom role below has no secretmanager.versions.access), no roles/storage.admin;
#   - every role that can change an IAM policy is granted with a condition naming the roles
#     it may grant or revoke (iam.googleapis.com/modifiedGrantsByRole), so it cannot give
#     itself or anyone Owner:
#     https://cloud.google.com/iam/docs/setting-limits-on-granting-roles
#
# tests/unit/test_infra_deployer.py keeps this file and infra/ in step: every resource type
# in infra/ is covered by a role granted here, every role granted here is needed by one, and
# the project-level condition lists exactly the roles infra/ grants at project level.

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "atende-deployer"
  display_name = "Atende deployer (Cloud Build)"
  description  = "Runs terraform in infra/ (cloudbuild.yaml) with the tested bundles of atende-ci."

  depends_on = [google_project_service.api]
}

locals {
  deployer = "serviceAccount:${google_service_account.deployer.email}"

  # Every role infra/ grants with google_project_iam_member: roles/datastore.user
  # (modules/function, the functions that use Firestore) and build_service_account_roles
  # (iam.tf, the function-build account).
  infra_fixed_project_roles = ["roles/datastore.user"]
  infra_project_roles       = distinct(concat(local.infra_fixed_project_roles, var.build_service_account_roles))

  # Project roles without a condition (none of them can change an IAM policy), each with the
  # resource type of infra/ or the pipeline step that needs it.
  deployer_roles = {
    # google_cloudfunctions2_function: cloudfunctions.functions.create/update/delete, without
    # setIamPolicy (invokers are set on the Cloud Run service, below).
    "roles/cloudfunctions.developer" = "google_cloudfunctions2_function"
    # iam.serviceAccounts.actAs: deploy each function as its own account and build it as
    # atende-build; give the scheduler jobs atende-invoker's OIDC token.
    "roles/iam.serviceAccountUser" = "google_cloudfunctions2_function, google_cloud_scheduler_job"
    # cloudscheduler.jobs.create/update/delete.
    "roles/cloudscheduler.admin" = "google_cloud_scheduler_job"
    # datastore.databases.create/update and indexes: Firestore documents "Owner or Datastore
    # Owner" for creating a database (https://cloud.google.com/firestore/native/docs/manage-databases).
    "roles/datastore.owner" = "google_firestore_database, google_firestore_field, google_firestore_index"
    # logging.logMetrics.create/update/delete.
    "roles/logging.configWriter" = "google_logging_metric"
    # monitoring.alertPolicies.create/update/delete.
    "roles/monitoring.alertPolicyEditor" = "google_monitoring_alert_policy"
    # The deploy build itself: its logs (CLOUD_LOGGING_ONLY with a user-specified account) and
    # finding the CI build of its commit (cloudbuild.builds.list/get).
    "roles/logging.logWriter"        = "the deploy build's logs"
    "roles/cloudbuild.builds.viewer" = "the deploy build finds the CI build of its commit"
  }

  # Roles that can set IAM policies, each limited to the roles infra/ grants with it.
  deployer_granting_roles = {
    # resourcemanager.projects.setIamPolicy: google_project_iam_member.
    "roles/resourcemanager.projectIamAdmin" = local.infra_project_roles
    # run.services.setIamPolicy: google_cloud_run_service_iam_member (invokers of the
    # functions' Cloud Run services). Cloud Run Developer cannot set IAM policies.
    "roles/run.admin" = ["roles/run.invoker"]
    # cloudtasks.queues.* (with setIamPolicy), no tasks.*: google_cloud_tasks_queue and
    # google_cloud_tasks_queue_iam_member.
    "roles/cloudtasks.queueAdmin" = ["roles/cloudtasks.enqueuer"]
    # iam.serviceAccounts.create/delete/update/setIamPolicy: google_service_account and
    # google_service_account_iam_member (the enqueuers may act as atende-invoker).
    "roles/iam.serviceAccountAdmin" = ["roles/iam.serviceAccountUser"]
  }
}

resource "google_project_iam_member" "deployer" {
  #checkov:skip=CKV_GCP_41:The deployer deploys each function as its own account and gives scheduler jobs atende-invoker's token: it needs actAs on accounts infra/ creates, which do not exist yet when this grant is made.
  #checkov:skip=CKV_GCP_49:As above: iam.serviceAccountUser on accounts created later by infra/.
  for_each = local.deployer_roles

  project = var.project_id
  role    = each.key
  member  = local.deployer
}

# The condition as documented in "Set limits on granting roles": the role may grant and revoke
# only the listed roles. modifiedGrantsByRole is empty for requests that change no policy, so
# every other permission of the role is unaffected.
resource "google_project_iam_member" "deployer_granting" {
  #checkov:skip=CKV_GCP_49:roles/iam.serviceAccountAdmin creates the functions' accounts; its condition lets it grant roles/iam.serviceAccountUser only.
  for_each = local.deployer_granting_roles

  project = var.project_id
  role    = each.key
  member  = local.deployer

  condition {
    title       = "atende-grants-only"
    description = "May grant and revoke only the roles infra/ grants with this role."
    expression  = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${join(", ", [for role in each.value : "'${role}'"])}])"
  }
}

# Secret Manager without secret values: create, update, delete the secrets and set who may
# read them, never secretmanager.versions.* (no access, no add, no list of versions).
# Permissions: https://cloud.google.com/iam/docs/roles-permissions/secretmanager
resource "google_project_iam_custom_role" "deployer_secrets" {
  project     = var.project_id
  role_id     = "atendeDeployerSecrets"
  title       = "Atende deployer: secrets without values"
  description = "Create, update, delete Secret Manager secrets and their IAM policies; no access to secret versions."
  permissions = [
    "secretmanager.secrets.create",
    "secretmanager.secrets.delete",
    "secretmanager.secrets.get",
    "secretmanager.secrets.getIamPolicy",
    "secretmanager.secrets.list",
    "secretmanager.secrets.setIamPolicy",
    "secretmanager.secrets.update",
  ]
}

resource "google_project_iam_member" "deployer_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.deployer_secrets.name
  member  = local.deployer

  condition {
    title       = "atende-grants-only"
    description = "May grant and revoke only secretAccessor on secrets."
    expression  = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/secretmanager.secretAccessor'])"
  }
}

# The sources bucket (google_storage_bucket.sources in infra/functions.tf): create and manage
# buckets, without any object or IAM permission (roles/storage.admin would add both, on every
# bucket of the project, the state bucket included).
resource "google_project_iam_custom_role" "deployer_buckets" {
  project     = var.project_id
  role_id     = "atendeDeployerBuckets"
  title       = "Atende deployer: buckets"
  description = "Create, read, update and delete Cloud Storage buckets; no object or IAM permission."
  permissions = [
    "storage.buckets.create",
    "storage.buckets.delete",
    "storage.buckets.get",
    "storage.buckets.update",
  ]
}

resource "google_project_iam_member" "deployer_buckets" {
  project = var.project_id
  role    = google_project_iam_custom_role.deployer_buckets.name
  member  = local.deployer
}

# google_storage_bucket_object: the bundles it uploads to the sources bucket, and nowhere else.
# Cloud Storage resource names in conditions: projects/_/buckets/<bucket>[/objects/<object>]
# (https://cloud.google.com/iam/docs/conditions-resource-attributes).
resource "google_project_iam_member" "deployer_sources_objects" {
  project = var.project_id
  role    = "roles/storage.objectUser"
  member  = local.deployer

  condition {
    title       = "atende-sources-bucket-only"
    description = "Objects of the function sources bucket only."
    expression  = "resource.name == 'projects/_/buckets/${local.sources_bucket}' || resource.name.startsWith('projects/_/buckets/${local.sources_bucket}/objects/')"
  }
}

# The state and its lock file.
resource "google_storage_bucket_iam_member" "deployer_state" {
  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectUser"
  member = local.deployer
}

# The tested bundles: read only.
resource "google_storage_bucket_iam_member" "deployer_bundles" {
  bucket = google_storage_bucket.bundles.name
  role   = "roles/storage.objectViewer"
  member = local.deployer
}
