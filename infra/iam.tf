# Service accounts and the grants that are not one function's own.
#
# Each function runs as its own service account, created with its grants in
# modules/function (secrets it reads, Firestore, the queues it enqueues to). Nothing here or
# there is project-wide beyond roles/datastore.user (Firestore has no narrower grant for one
# database's documents) and the build account's roles.
#
#   function                  secrets   datastore.user   enqueues to          invoked by
#   <channel>_webhook         its own   -                inbound              allUsers (signatures)
#   process_inbound           its own   yes              inbound, outbound    atende-invoker
#   send_outbound             its own   yes              —                    atende-invoker
#   youtube_renew             its own   yes              -                    atende-invoker
#   google_calendar_watch     its own   yes              inbound              atende-invoker
#   apple_calendar_poll       its own   yes              inbound              atende-invoker
#   agent_reply               its own   yes              inbound, outbound    allUsers (agent token) or the CRM's members
#
# A function that enqueues may act as atende-invoker (its tasks carry that account's OIDC
# token) and nothing else. The "enqueues to" column is atende.deployment's (each hop's
# ENQUEUES); tests/unit/test_infra_wiring.py checks functions.tf against it both ways, and
# the local stack's Cloud Tasks emulator refuses any other queue with PermissionDenied.

# The identity in every Cloud Tasks and Cloud Scheduler OIDC token
# (ATENDE_TASKS_SERVICE_ACCOUNT). It holds no role but run.invoker on the private functions.
resource "google_service_account" "invoker" {
  project      = var.project_id
  account_id   = "atende-invoker"
  display_name = "Atende tasks and scheduler invoker"
  description  = "Cloud Tasks and Cloud Scheduler call the private Atende functions as this account."
}

# Cloud Build turns each bundle into the function's image as this account (not the project's
# default compute account, which new projects leave without permissions).
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "atende-build"
  display_name = "Atende function builds"
  description  = "Builds the Atende functions' images from their bundles."
}

resource "google_project_iam_member" "build" {
  for_each = toset(var.build_service_account_roles)

  project = var.project_id
  role    = each.key
  member  = "serviceAccount:${google_service_account.build.email}"
}

# The build account once its roles are granted. The functions take their build account from
# here, so no function build starts before the grants exist (a module-level depends_on would
# instead defer reading the bundles to apply time and redeploy every function on every run).
resource "terraform_data" "build_account" {
  input      = google_service_account.build.id
  depends_on = [google_project_iam_member.build]
}
