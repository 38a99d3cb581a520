# A development project: works as it is (the ids below are examples, which only dev accepts).
# project_id and region come from the pipeline (-var project_id=... -var region=...),
# or add them here.
environment = "dev"

# Provider account -> tenant, per channel (docs/channels.md). Only the channels you use.
channel_accounts = {
  whatsapp = {
    # The local stack's example phone number id (README): put your Meta app's test number id
    # (Meta app > WhatsApp > API Setup). Only dev accepts this example; staging and prod refuse it.
    "106540352242922" = "demo"
  }
}

# Small and cheap: scale to zero, one warm Discord instance only if Discord is used.
discord_min_instances = 0
function_settings = {
  webhook = { memory = "256M", cpu = "1", concurrency = 40, timeout_seconds = 30, min_instances = 0, max_instances = 3 }
  worker  = { memory = "256M", cpu = "1", concurrency = 8, timeout_seconds = 120, min_instances = 0, max_instances = 3 }
  job     = { memory = "256M", cpu = "1", concurrency = 1, timeout_seconds = 540, min_instances = 0, max_instances = 1 }
  agent   = { memory = "256M", cpu = "1", concurrency = 20, timeout_seconds = 30, min_instances = 0, max_instances = 2 }
}

log_level                        = "DEBUG"
tasks_log_sampling_ratio         = 1.0
firestore_point_in_time_recovery = false
firestore_delete_protection      = false

# Alerts are kept but go nowhere until a channel is given.
alert_notification_channels = []
