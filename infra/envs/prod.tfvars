# Example: production; edit before use (every id below is an example).
# project_id and region come from the pipeline (-var project_id=... -var region=...),
# or add them here.
environment = "prod"

# Provider account -> tenant, per channel (docs/channels.md). Only the channels you use.
channel_accounts = {
  whatsapp = {
    "123456789012345" = "acme"
  }
  instagram = {
    "17841400000000000" = "acme"
  }
  discord = {
    "1234567890123456789" = "acme"
  }
  google_calendar = {
    "agenda@acme.example" = "acme"
  }
}
instagram_page_ids = {
  "17841400000000000" = "100000000000000"
}

# Firestore in the Americas multi-region (cannot change once created).
firestore_location = "nam5"

# Discord needs a warm instance (3-s deadline); keep one WhatsApp instance warm as well.
discord_min_instances = 1
function_overrides = {
  whatsapp_webhook = { min_instances = 1 }
}

# Where the alerts go: gcloud beta monitoring channels list --format='value(name)'
alert_notification_channels = [
  "projects/acme-atende-prod/notificationChannels/1234567890123456789",
]

# Only the CRM's service account may call agent_reply (besides its Bearer token).
# agent_invoker_members = ["serviceAccount:crm@acme-crm.iam.gserviceaccount.com"]
