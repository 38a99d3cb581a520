# Every function of atende.deployment.functions(), by kind. tests/unit/test_infra_wiring.py
# parses these maps and checks them against the code both ways: names, kinds, secrets, the
# queues each one enqueues to (`enqueues`), settings.
#
# A new channel is one entry in `channels` (its webhook), plus one in `jobs` per scheduled
# job it has; its secrets are created and bound from these lists.

locals {
  # What ATENDE_FUNCTIONS_BASE_URL points at: tasks target <base>/<worker>, and workers and
  # jobs accept OIDC tokens whose audience is <base>/<their name>.
  functions_base_url = "https://${var.region}-${var.project_id}.cloudfunctions.net"
  bundles_path       = "${path.root}/${var.repo_root}/${var.bundle_dir}"

  # Every function reads these (atende.config.Settings).
  common_env = {
    # The entry points are functions_framework.aio (ASGI); functions-framework 3.10 also
    # detects that by itself, the flag skips building an unused Flask app on every start.
    FUNCTION_USE_ASGI            = "true"
    ATENDE_PROJECT               = var.project_id
    ATENDE_LOCATION              = var.region
    ATENDE_INBOUND_QUEUE         = var.inbound_queue_name
    ATENDE_OUTBOUND_QUEUE        = var.outbound_queue_name
    ATENDE_FUNCTIONS_BASE_URL    = local.functions_base_url
    ATENDE_TASKS_SERVICE_ACCOUNT = google_service_account.invoker.email
    ATENDE_SECRETS_BACKEND       = "secret-manager"
    ATENDE_TASK_AUTH             = "oidc"
    ATENDE_LOG_LEVEL             = var.log_level
    # A worker knows its task's last attempt (and records a dead letter before it fails)
    # from the retry headers and these, the queues' own max_attempts.
    ATENDE_INBOUND_MAX_ATTEMPTS  = tostring(var.queue_settings["inbound"].max_attempts)
    ATENDE_OUTBOUND_MAX_ATTEMPTS = tostring(var.queue_settings["outbound"].max_attempts)
    # Not a setting: changing it rolls every function to new instances (variables.tf).
    ATENDE_SECRETS_GENERATION = var.secrets_generation
  }

  # Only for functions nobody but the invoker service account may call (workers and jobs):
  # Cloud Run has verified the OIDC token and passes it on without its signature; the code
  # still checks audience, issuer, expiry and e-mail. Never on a public function.
  private_env = {
    ATENDE_TASK_OIDC_PLATFORM_VERIFIED = "true"
  }

  # channel -> its webhook: the secrets it reads and its settings.
  channels = {
    whatsapp = {
      description   = "WhatsApp Cloud API webhook: verify, parse, enqueue."
      secrets       = ["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"]
      enqueues      = ["inbound"]
      min_instances = null
      env = {
        ATENDE_WHATSAPP_TENANTS = jsonencode(lookup(var.channel_accounts, "whatsapp", {}))
      }
    }
    messenger = {
      description   = "Messenger Platform webhook: verify, parse, enqueue."
      secrets       = ["MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN"]
      enqueues      = ["inbound"]
      min_instances = null
      env = {
        ATENDE_MESSENGER_TENANTS = jsonencode(lookup(var.channel_accounts, "messenger", {}))
      }
    }
    instagram = {
      description   = "Instagram messaging and comments webhook: verify, parse, enqueue."
      secrets       = ["INSTAGRAM_APP_SECRET", "INSTAGRAM_VERIFY_TOKEN"]
      enqueues      = ["inbound"]
      min_instances = null
      env = {
        ATENDE_INSTAGRAM_TENANTS = jsonencode(lookup(var.channel_accounts, "instagram", {}))
      }
    }
    discord = {
      description = "Discord interactions endpoint: verify, defer within 3 s, enqueue."
      secrets     = ["DISCORD_PUBLIC_KEY"]
      enqueues    = ["inbound"]
      # Discord drops an interaction not answered within 3 s; a cold start takes longer.
      min_instances = var.discord_min_instances
      env = {
        ATENDE_DISCORD_TENANTS = jsonencode(lookup(var.channel_accounts, "discord", {}))
      }
    }
    linkedin = {
      description   = "LinkedIn organization social action notifications: verify, parse, enqueue."
      secrets       = ["LINKEDIN_CLIENT_SECRET"]
      enqueues      = ["inbound"]
      min_instances = null
      env = {
        ATENDE_LINKEDIN_TENANTS = jsonencode(lookup(var.channel_accounts, "linkedin", {}))
      }
    }
    tiktok = {
      description   = "TikTok webhook: verify, parse, enqueue."
      secrets       = ["TIKTOK_CLIENT_SECRET"]
      enqueues      = ["inbound"]
      min_instances = null
      env = {
        ATENDE_TIKTOK_TENANTS = jsonencode(lookup(var.channel_accounts, "tiktok", {}))
      }
    }
    youtube = {
      description   = "YouTube WebSub callback: verify, parse, enqueue."
      secrets       = ["YOUTUBE_HUB_SECRET"]
      enqueues      = ["inbound"]
      min_instances = null
      env = {
        ATENDE_YOUTUBE_TOPICS = jsonencode(lookup(var.channel_accounts, "youtube", {}))
      }
    }
    google_calendar = {
      description   = "Google Calendar push notices: verify the channel token, enqueue a sync."
      secrets       = ["GOOGLE_CALENDAR_CHANNEL_SECRET"]
      enqueues      = ["inbound"]
      min_instances = null
      env = {
        ATENDE_GOOGLE_CALENDAR_CALENDARS = jsonencode(lookup(var.channel_accounts, "google_calendar", {}))
      }
    }
  }

  # Cloud Tasks targets.
  workers = {
    process_inbound = {
      description = "Cloud Tasks worker: dedupe, session, conversation, outbox, follow-up tasks."
      secrets     = ["ATENDE_AI_API_KEY"]
      enqueues    = ["inbound", "outbound"]
      env = merge(
        {
          ATENDE_AI_MODEL             = var.ai_model
          ATENDE_TENANT_CACHE_SECONDS = tostring(var.tenant_cache_seconds)
        },
        var.ai_base_url == null ? {} : { ATENDE_AI_BASE_URL = var.ai_base_url },
      )
    }
    send_outbound = {
      description = "Cloud Tasks worker: send a session's replies in order, each at most once."
      secrets     = ["WHATSAPP_ACCESS_TOKEN", "MESSENGER_PAGE_ACCESS_TOKEN", "INSTAGRAM_ACCESS_TOKEN", "LINKEDIN_ACCESS_TOKEN"]
      # Enqueues nothing: a reply waits for the one before it by reading it
      # (send_outbound/sender.py); the send tasks come from process_inbound and agent_reply.
      enqueues = []
      env = {
        ATENDE_INSTAGRAM_PAGE_IDS   = jsonencode(var.instagram_page_ids)
        ATENDE_LINKEDIN_API_VERSION = var.linkedin_api_version
      }
    }
  }

  # Cloud Scheduler targets, <channel>_<job>. A job with no account of its channel to serve
  # stays paused.
  jobs = {
    youtube_renew = {
      description = "Scheduled: renew the WebSub subscriptions before their leases end."
      secrets     = ["YOUTUBE_HUB_SECRET"]
      enqueues    = []
      schedule    = var.job_schedules.youtube_renew
      paused      = length(lookup(var.channel_accounts, "youtube", {})) == 0
      env = {
        ATENDE_YOUTUBE_TOPICS       = jsonencode(lookup(var.channel_accounts, "youtube", {}))
        ATENDE_YOUTUBE_CALLBACK_URL = "${local.functions_base_url}/youtube_webhook"
      }
    }
    google_calendar_watch = {
      description = "Scheduled: keep one live push channel on every configured calendar."
      secrets     = ["GOOGLE_CALENDAR_CHANNEL_SECRET"]
      enqueues    = ["inbound"]
      schedule    = var.job_schedules.google_calendar_watch
      paused      = length(lookup(var.channel_accounts, "google_calendar", {})) == 0
      env = {
        ATENDE_GOOGLE_CALENDAR_CALENDARS   = jsonencode(lookup(var.channel_accounts, "google_calendar", {}))
        ATENDE_GOOGLE_CALENDAR_WEBHOOK_URL = "${local.functions_base_url}/google_calendar_webhook"
      }
    }
    apple_calendar_poll = {
      description = "Scheduled: poll every configured iCloud calendar over CalDAV."
      secrets     = ["APPLE_CALENDAR_APP_PASSWORD"]
      enqueues    = ["inbound"]
      schedule    = var.job_schedules.apple_calendar_poll
      paused      = length(lookup(var.channel_accounts, "apple_calendar", {})) == 0
      env = merge(
        {
          ATENDE_APPLE_CALENDAR_CALENDARS         = jsonencode(lookup(var.channel_accounts, "apple_calendar", {}))
          ATENDE_APPLE_CALENDAR_FLOATING_TIMEZONE = var.apple_calendar_floating_timezone
        },
        var.apple_calendar_username == "" ? {} : { ATENDE_APPLE_CALENDAR_USERNAME = var.apple_calendar_username },
      )
    }
  }

  # The API a CRM calls (its own Bearer token).
  agents = {
    agent_reply = {
      description = "Agent API: reply, release, resolve, comment_reply (agent API tokens in Firestore)."
      secrets     = []
      enqueues    = ["inbound", "outbound"]
      env = {
        ATENDE_TENANT_CACHE_SECONDS = tostring(var.tenant_cache_seconds)
      }
    }
  }

  # Queue key -> queue name, for the enqueuer grants.
  queue_names = {
    inbound  = google_cloud_tasks_queue.inbound.name
    outbound = google_cloud_tasks_queue.outbound.name
  }
}

# Inputs that must name what is deployed: a misspelt channel or function would otherwise be
# ignored without a word.
locals {
  # Channels: those with a webhook, and those of the scheduled jobs (<channel>_<job>).
  known_channels = setunion(keys(local.channels), [for job in keys(local.jobs) : replace(job, "/_[a-z]+$/", "")])
  known_functions = setunion(
    [for channel in keys(local.channels) : "${channel}_webhook"],
    keys(local.workers), keys(local.jobs), keys(local.agents),
  )
  unknown_channels  = setsubtract(keys(var.channel_accounts), local.known_channels)
  unknown_functions = setsubtract(keys(var.function_overrides), local.known_functions)
}

resource "terraform_data" "input_checks" {
  lifecycle {
    precondition {
      condition     = length(local.unknown_channels) == 0
      error_message = "channel_accounts names channels Atende does not have: ${join(", ", local.unknown_channels)}."
    }
    precondition {
      condition     = length(local.unknown_functions) == 0
      error_message = "function_overrides names functions that are not deployed: ${join(", ", local.unknown_functions)}."
    }
  }
}

# Bundles are uploaded here, one object per code version (named by its hash).
resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:Access logs of a bucket that only holds function bundles built from this public repository add nothing; Cloud Audit Logs already record who changed it.
  project                     = var.project_id
  name                        = "${var.project_id}-atende-sources"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Terraform deletes a bundle once a newer one replaced it; keep it 30 days for rollback.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
}

# Public: providers call them; each one verifies its provider's signature, fail-closed.
module "webhook" {
  source   = "./modules/function"
  for_each = local.channels

  name        = "${each.key}_webhook"
  kind        = "webhook"
  description = each.value.description
  project_id  = var.project_id
  region      = var.region
  runtime     = var.function_runtime

  bundles_path          = local.bundles_path
  source_bucket         = google_storage_bucket.sources.name
  build_service_account = terraform_data.build_account.output

  scaling = merge(
    var.function_settings["webhook"],
    each.value.min_instances == null ? {} : { min_instances = each.value.min_instances },
    { for k, v in try(var.function_overrides["${each.key}_webhook"], {}) : k => v if v != null },
  )
  environment = merge(local.common_env, each.value.env)

  secrets                  = { for name in each.value.secrets : name => google_secret_manager_secret.secret[name].secret_id }
  public                   = true
  invoker_members          = {}
  firestore                = false
  enqueue_queues           = { for queue in each.value.enqueues : queue => local.queue_names[queue] }
  tasks_service_account_id = google_service_account.invoker.name
}

# Private: only Cloud Tasks, with the invoker service account's OIDC token.
module "worker" {
  source   = "./modules/function"
  for_each = local.workers

  name        = each.key
  kind        = "worker"
  description = each.value.description
  project_id  = var.project_id
  region      = var.region
  runtime     = var.function_runtime

  bundles_path          = local.bundles_path
  source_bucket         = google_storage_bucket.sources.name
  build_service_account = terraform_data.build_account.output

  scaling = merge(
    var.function_settings["worker"],
    { for k, v in try(var.function_overrides[each.key], {}) : k => v if v != null },
  )
  environment = merge(local.common_env, local.private_env, each.value.env)

  secrets                  = { for name in each.value.secrets : name => google_secret_manager_secret.secret[name].secret_id }
  public                   = false
  invoker_members          = { tasks_invoker = "serviceAccount:${google_service_account.invoker.email}" }
  firestore                = true
  enqueue_queues           = { for queue in each.value.enqueues : queue => local.queue_names[queue] }
  tasks_service_account_id = google_service_account.invoker.name
}

# Private: only Cloud Scheduler, with the invoker service account's OIDC token.
module "job" {
  source   = "./modules/function"
  for_each = local.jobs

  name        = each.key
  kind        = "job"
  description = each.value.description
  project_id  = var.project_id
  region      = var.region
  runtime     = var.function_runtime

  bundles_path          = local.bundles_path
  source_bucket         = google_storage_bucket.sources.name
  build_service_account = terraform_data.build_account.output

  scaling = merge(
    var.function_settings["job"],
    { for k, v in try(var.function_overrides[each.key], {}) : k => v if v != null },
  )
  environment = merge(local.common_env, local.private_env, each.value.env)

  secrets                  = { for name in each.value.secrets : name => google_secret_manager_secret.secret[name].secret_id }
  public                   = false
  invoker_members          = { tasks_invoker = "serviceAccount:${google_service_account.invoker.email}" }
  firestore                = true
  enqueue_queues           = { for queue in each.value.enqueues : queue => local.queue_names[queue] }
  tasks_service_account_id = google_service_account.invoker.name
}

# Public by default (the CRM's Bearer token is checked by the code), or private to the
# CRM's own identities when agent_invoker_members is set.
module "agent" {
  source   = "./modules/function"
  for_each = local.agents

  name        = each.key
  kind        = "agent"
  description = each.value.description
  project_id  = var.project_id
  region      = var.region
  runtime     = var.function_runtime

  bundles_path          = local.bundles_path
  source_bucket         = google_storage_bucket.sources.name
  build_service_account = terraform_data.build_account.output

  scaling = merge(
    var.function_settings["agent"],
    { for k, v in try(var.function_overrides[each.key], {}) : k => v if v != null },
  )
  environment = merge(local.common_env, each.value.env)

  secrets                  = { for name in each.value.secrets : name => google_secret_manager_secret.secret[name].secret_id }
  public                   = length(var.agent_invoker_members) == 0
  invoker_members          = { for member in var.agent_invoker_members : member => member }
  firestore                = true
  enqueue_queues           = { for queue in each.value.enqueues : queue => local.queue_names[queue] }
  tasks_service_account_id = google_service_account.invoker.name
}
