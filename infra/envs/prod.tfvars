# Production: a TEMPLATE. Terraform refuses it until you have made the choices marked
# "REQUIRED" below (the plan says why, and what to put). docs/deploy.md,
# "Before the first build: the settings you choose", explains each one.
# project_id and region come from the pipeline (-var project_id=... -var region=...).
environment = "prod"

# REQUIRED, and irreversible: the location of the Firestore database. It cannot change once
# the first apply created it. A multi-region (nam5: United States, eur3: Europe) or one region,
# usually the functions' own (for example southamerica-east1); `gcloud firestore locations list`.
# firestore_location = "<location id>"

# REQUIRED in prod: where the alerts go, one or more notification channels of THIS project.
#   gcloud beta monitoring channels list --format='value(name,type,displayName)'
#   gcloud beta monitoring channels create --display-name="Atende on-call" --type=email \
#     --channel-labels=email_address=<address>
# alert_notification_channels = [
#   "projects/<project id>/notificationChannels/<number>",
# ]

# Provider account -> tenant, per channel (docs/channels.md): only the channels you use, with
# your own ids. May stay empty for the first deployment (you get the webhook URLs first, then
# register them with each provider: docs/deploy.md step 8); a delivery for an account not
# listed here has no tenant.
# channel_accounts = {
#   whatsapp = {
#     "<phone number id>" = "<tenant id>" # Meta app > WhatsApp > API Setup
#     # The smoke check after every deploy (cloudbuild-smoke.yaml): a dedicated test number,
#     # its tenant set to `outbound: dry_run` (docs/examples/tenant-smoke.json).
#     "<smoke test phone number id>" = "smoke"
#   }
#   instagram = {
#     "<professional account id>" = "<tenant id>"
#   }
#   discord = {
#     "<application id>" = "<tenant id>" # Developer Portal > General Information
#   }
#   google_calendar = {
#     "<calendar id>" = "<tenant id>" # Google Calendar > Settings > Integrate calendar
#   }
# }
# Instagram account -> the Facebook Page linked to it (sends through the Page).
# instagram_page_ids = {
#   "<professional account id>" = "<page id>"
# }

# Discord needs a warm instance (3-s deadline); keep one WhatsApp instance warm as well.
discord_min_instances = 1
function_overrides = {
  whatsapp_webhook = { min_instances = 1 }
}

# Only the CRM's service account may call agent_reply (besides its Bearer token).
# agent_invoker_members = ["serviceAccount:<crm service account>@<crm project>.iam.gserviceaccount.com"]
