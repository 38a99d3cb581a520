# Staging: a TEMPLATE. Terraform refuses it until you have made the choice marked "REQUIRED"
# below (the plan says why, and what to put). docs/deploy.md, "Before the first
# build: the settings you choose", explains each one. Staging follows prod's rules except that
# alerts may go nowhere.
# project_id and region come from the pipeline (-var project_id=... -var region=...).
environment = "staging"

# REQUIRED, and irreversible: the location of the Firestore database. It cannot change once
# the first apply created it. Usually the same as prod's: a multi-region (nam5: United States,
# eur3: Europe) or one region such as southamerica-east1; `gcloud firestore locations list`.
# firestore_location = "<location id>"

# Where the alerts go (optional in staging): notification channels of THIS project.
#   gcloud beta monitoring channels list --format='value(name,type,displayName)'
# alert_notification_channels = [
#   "projects/<project id>/notificationChannels/<number>",
# ]

# Provider account -> tenant, per channel (docs/channels.md): your test accounts, never the
# examples. May stay empty for the first deployment.
# channel_accounts = {
#   whatsapp = {
#     "<phone number id>" = "<tenant id>" # Meta app > WhatsApp > API Setup
#     # The smoke check after every deploy (cloudbuild-smoke.yaml): a dedicated test number,
#     # its tenant set to `outbound: dry_run` (docs/examples/tenant-smoke.json).
#     "<smoke test phone number id>" = "smoke"
#   }
# }

# Smaller than prod, and scales to zero (Discord: set 1 while you test it).
discord_min_instances = 0
function_settings = {
  webhook = { memory = "256M", cpu = "1", concurrency = 40, timeout_seconds = 30, min_instances = 0, max_instances = 5 }
  worker  = { memory = "256M", cpu = "1", concurrency = 8, timeout_seconds = 120, min_instances = 0, max_instances = 5 }
  job     = { memory = "256M", cpu = "1", concurrency = 1, timeout_seconds = 540, min_instances = 0, max_instances = 1 }
  agent   = { memory = "256M", cpu = "1", concurrency = 20, timeout_seconds = 30, min_instances = 0, max_instances = 3 }
}
