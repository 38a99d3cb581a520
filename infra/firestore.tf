# Firestore, native mode: the (default) database, TTL policies and the one composite index.
#
# Concurrency mode: OPTIMISTIC. Every write Atende makes that can race runs in a transaction,
# and updates of sessions, outbox records and comments also carry an update-time
# precondition (atende.adapters.firestore); a lost conflict is retried a bounded number of
# times, then by the queue (503). Conflicts are per
# session and rare. Under PESSIMISTIC locking, a transaction left open by an instance that
# crashed keeps its locks until it expires, stalling that session's next step for up to a
# minute; optimistic transactions take no locks, so a crash costs nothing but a retry. The
# emulator the tests run against locks pessimistically: the tests cover the slower case.
resource "google_firestore_database" "default" {
  # Encrypted at rest with Google-managed keys; add cmek_config where policy requires a
  # customer-managed key (it needs a Cloud KMS key ring in the database's location).
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = coalesce(var.firestore_location, var.region)
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = var.firestore_concurrency_mode
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = var.firestore_point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.firestore_delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # `terraform destroy` leaves the data where it is.
  deletion_policy = "ABANDON"
}

# TTL on expire_at (docs/architecture.md, data model). Deletion can lag a day: readers check
# expire_at themselves. The field is never queried, so its single-field indexes are turned off
# (an index on an ever-increasing timestamp is also a write hotspot).
#   sessions:      last write + the tenant's session_retention_days (personal data)
#   channel_state: calendar memories (the appointment's end + 7 days; the CalDAV sync state
#                  90 days after its last poll); other channel state carries no expire_at
#   dead_letters:  work that failed its last attempt, kept for replay
resource "google_firestore_field" "expire_at" {
  for_each = toset(["dedupe", "outbox", "handoffs", "comments", "sessions", "channel_state", "dead_letters"])

  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = each.key
  field      = "expire_at"

  ttl_config {}

  index_config {}
}

# The CRM's list of conversations waiting for an agent:
#   handoffs where tenant_id == T and status == "waiting" order by requested_at.
# Every other query Atende makes is on a single field (outbox by provider_message_id or
# session_id, channel_state by a key range), served by the automatic single-field indexes.
resource "google_firestore_index" "handoffs_waiting" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "handoffs"
  query_scope = "COLLECTION"

  fields {
    field_path = "tenant_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "requested_at"
    order      = "ASCENDING"
  }
}
