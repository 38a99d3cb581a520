# Inputs. infra/envs/<env>.tfvars sets them per environment (dev.tfvars is a working example;
# staging.tfvars and prod.tfvars are templates refused until they are filled in: see "Checks of
# the settings" at the end); `project_id` and `region` usually come from the pipeline
# (-var project_id=... -var region=...).

# --- Where ---------------------------------------------------------------------------------

variable "project_id" {
  description = "The Google Cloud project every resource lives in."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, the queues and the scheduler jobs (ATENDE_LOCATION)."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1 or southamerica-east1."
  }
}

variable "environment" {
  description = "Which environment this state describes; it labels every resource."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

# --- What is deployed ----------------------------------------------------------------------

variable "repo_root" {
  description = "Path from infra/ to the repository root, where `make package` wrote build/<function>/."
  type        = string
  default     = ".."

  validation {
    condition     = length(var.repo_root) > 0 && !endswith(var.repo_root, "/")
    error_message = "repo_root must be a path without a trailing slash, such as \"..\"."
  }
}

variable "bundle_dir" {
  description = "Directory, relative to the repository root, holding one bundle per function (make package)."
  type        = string
  default     = "build"

  validation {
    condition     = length(var.bundle_dir) > 0 && !startswith(var.bundle_dir, "/") && !endswith(var.bundle_dir, "/")
    error_message = "bundle_dir must be a relative path without a trailing slash, such as \"build\"."
  }
}

variable "function_runtime" {
  description = "Cloud Functions runtime of every function."
  type        = string
  default     = "python312"

  validation {
    condition     = can(regex("^python3(1[2-9])$", var.function_runtime))
    error_message = "function_runtime must be python312 or a later python3 runtime (the bundles are tested on 3.12)."
  }
}

variable "function_settings" {
  description = <<-EOT
    Size and scaling of the functions, by kind (webhook, worker, job, agent). Concurrency above 1
    needs at least one whole CPU. The functions are ASGI (uvicorn, one event loop): webhooks only
    await the queue, so they take many requests at once; workers and the agent run their
    blocking work in asyncio's default thread pool (min(32, CPUs + 4) threads), so their
    concurrency stays near that pool's size; jobs run one at a time (two overlapping runs of a
    watch or poll job would each open a channel or fetch the same changes). Memory comes from
    `make bench` (docs/performance.md): the peak RSS of every function under load stays near
    100 MiB (webhook at 200 connections, workers through 500 messages), so 256M, the smallest
    size with a whole CPU, leaves more than half free.
  EOT
  type = map(object({
    memory          = string
    cpu             = string
    concurrency     = number
    timeout_seconds = number
    min_instances   = number
    max_instances   = number
  }))
  default = {
    webhook = { memory = "256M", cpu = "1", concurrency = 40, timeout_seconds = 30, min_instances = 0, max_instances = 20 }
    worker  = { memory = "256M", cpu = "1", concurrency = 8, timeout_seconds = 120, min_instances = 0, max_instances = 20 }
    job     = { memory = "256M", cpu = "1", concurrency = 1, timeout_seconds = 540, min_instances = 0, max_instances = 1 }
    agent   = { memory = "256M", cpu = "1", concurrency = 20, timeout_seconds = 30, min_instances = 0, max_instances = 10 }
  }

  validation {
    # join(): a list never equals a tuple literal in Terraform (`sort(...) == ["agent", …]` is
    # always false), so compare strings.
    condition     = join(",", sort(keys(var.function_settings))) == "agent,job,webhook,worker"
    error_message = "function_settings needs exactly the kinds agent, job, webhook and worker."
  }
  validation {
    condition     = alltrue([for s in values(var.function_settings) : can(regex("^[0-9]+(M|Mi|G|Gi)$", s.memory))])
    error_message = "Every memory must be a size such as 256M, 512Mi or 1Gi."
  }
  validation {
    condition     = alltrue([for s in values(var.function_settings) : can(tonumber(s.cpu)) && s.concurrency >= 1 && (s.concurrency == 1 || try(tonumber(s.cpu), 0) >= 1)])
    error_message = "cpu must be a number, concurrency at least 1, and a concurrency above 1 needs cpu >= 1."
  }
  validation {
    condition     = alltrue([for s in values(var.function_settings) : s.timeout_seconds >= 1 && s.timeout_seconds <= 3600 && s.min_instances >= 0 && s.max_instances >= 1 && s.min_instances <= s.max_instances])
    error_message = "timeout_seconds must be 1..3600, and 0 <= min_instances <= max_instances (max_instances >= 1)."
  }
}

variable "function_overrides" {
  description = "Per-function changes to function_settings, by function name (for example { process_inbound = { memory = \"512M\" } })."
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    concurrency     = optional(number)
    timeout_seconds = optional(number)
    min_instances   = optional(number)
    max_instances   = optional(number)
  }))
  default = {}

  validation {
    condition     = alltrue([for name in keys(var.function_overrides) : can(regex("^[a-z][a-z0-9_]*$", name))])
    error_message = "function_overrides keys must be function names such as process_inbound (functions.tf checks they exist)."
  }
}

variable "discord_min_instances" {
  description = "Warm instances of discord_webhook: Discord drops an interaction not answered within 3 s, longer than a cold start."
  type        = number
  default     = 1

  validation {
    condition     = var.discord_min_instances >= 0 && floor(var.discord_min_instances) == var.discord_min_instances
    error_message = "discord_min_instances must be a whole number, 0 or more (keep at least 1 wherever Discord is used)."
  }
}

variable "log_level" {
  description = "ATENDE_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "secrets_generation" {
  description = "Change it (any new value) to roll every function to fresh instances: instances read each secret once, so a new or rotated secret version is seen by instances started after it."
  type        = string
  default     = "1"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,40}$", var.secrets_generation))
    error_message = "secrets_generation must be 1-40 letters, digits, dots, dashes or underscores."
  }
}

# --- Channels ------------------------------------------------------------------------------

variable "channel_accounts" {
  description = <<-EOT
    Per channel, the provider accounts Atende answers and their tenant: the only source of an
    event's tenant. Keys are channel names; values map an account to a tenant id:
    whatsapp: phone number id; messenger: page id; instagram: professional account id;
    discord: application id; linkedin: organization URN; tiktok: client key; youtube: channel
    id (the topics subscribed to); google_calendar: calendar id; apple_calendar: CalDAV
    calendar collection URL.
  EOT
  type        = map(map(string))
  default     = {}

  validation {
    condition     = alltrue([for channel in keys(var.channel_accounts) : can(regex("^[a-z][a-z0-9_]*$", channel))])
    error_message = "channel_accounts keys must be channel names such as whatsapp or google_calendar (functions.tf checks they exist)."
  }
  validation {
    condition     = alltrue(flatten([for accounts in values(var.channel_accounts) : [for account, tenant in accounts : length(account) > 0 && can(regex("^[A-Za-z0-9_-]{1,64}$", tenant))]]))
    error_message = "Every account must be non-empty and every tenant id 1-64 letters, digits, dashes or underscores (replace the template's <placeholders> by your ids)."
  }
}

variable "instagram_page_ids" {
  description = "Instagram account id -> the Facebook Page linked to it (ATENDE_INSTAGRAM_PAGE_IDS, read by send_outbound)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for page in values(var.instagram_page_ids) : can(regex("^[0-9]+$", page))])
    error_message = "instagram_page_ids values must be numeric page ids."
  }
}

variable "linkedin_api_version" {
  description = "The LinkedIn-Version header, YYYYMM (LinkedIn supports a version about a year)."
  type        = string
  default     = "202609"

  validation {
    condition     = can(regex("^[0-9]{6}$", var.linkedin_api_version))
    error_message = "linkedin_api_version must be YYYYMM, such as 202609."
  }
}

variable "apple_calendar_username" {
  description = "The Apple Account (e-mail) whose app-specific password is in the apple-calendar-app-password secret; empty: apple_calendar_poll fails closed."
  type        = string
  default     = ""

  validation {
    condition     = var.apple_calendar_username == "" || can(regex("^[^@\\s]+@[^@\\s]+$", var.apple_calendar_username))
    error_message = "apple_calendar_username must be empty or an e-mail address."
  }
}

variable "apple_calendar_floating_timezone" {
  description = "Time zone of iCalendar times without one (ATENDE_APPLE_CALENDAR_FLOATING_TIMEZONE)."
  type        = string
  default     = "America/Sao_Paulo"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.apple_calendar_floating_timezone))
    error_message = "apple_calendar_floating_timezone must be an IANA time zone such as America/Sao_Paulo."
  }
}

# --- Conversation and AI -------------------------------------------------------------------

variable "ai_base_url" {
  description = "An OpenAI-compatible endpoint for process_inbound (ATENDE_AI_BASE_URL); null: OpenAI's own. The key is the atende-ai-api-key secret."
  type        = string
  default     = null

  validation {
    condition     = var.ai_base_url == null || can(regex("^https://", var.ai_base_url))
    error_message = "ai_base_url must be null or an https:// URL."
  }
}

variable "ai_model" {
  description = "The default model (ATENDE_AI_MODEL); a tenant's configuration may name another."
  type        = string
  default     = "gpt-4o-mini"

  validation {
    condition     = length(var.ai_model) > 0
    error_message = "ai_model must not be empty."
  }
}

variable "tenant_cache_seconds" {
  description = "How long an instance reuses a tenant's configuration (ATENDE_TENANT_CACHE_SECONDS)."
  type        = number
  default     = 60

  validation {
    condition     = var.tenant_cache_seconds >= 0 && var.tenant_cache_seconds <= 3600
    error_message = "tenant_cache_seconds must be between 0 and 3600."
  }
}

variable "agent_invoker_members" {
  description = <<-EOT
    Who may call agent_reply. Empty (the default): anyone may reach it, and it authenticates the
    CRM's Bearer token itself (a CRM outside Google Cloud cannot present a Google ID token).
    Otherwise only these IAM members (for example serviceAccount:crm@other-project.iam.gserviceaccount.com),
    with a Google ID token in X-Serverless-Authorization, on top of the agent API token in Authorization.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.agent_invoker_members : can(regex("^(serviceAccount|user|group|domain):.+$", m))])
    error_message = "agent_invoker_members must be IAM members such as serviceAccount:crm@project.iam.gserviceaccount.com (allUsers is what an empty list means)."
  }
}

# --- Queues --------------------------------------------------------------------------------

variable "inbound_queue_name" {
  description = "The Cloud Tasks queue of process_inbound tasks (ATENDE_INBOUND_QUEUE)."
  type        = string
  default     = "atende-inbound"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,100}$", var.inbound_queue_name))
    error_message = "inbound_queue_name must be 1-100 letters, digits or dashes."
  }
}

variable "outbound_queue_name" {
  description = "The Cloud Tasks queue of send_outbound tasks (ATENDE_OUTBOUND_QUEUE)."
  type        = string
  default     = "atende-outbound"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,100}$", var.outbound_queue_name))
    error_message = "outbound_queue_name must be 1-100 letters, digits or dashes."
  }
}

variable "queue_settings" {
  description = "Rate limits and retry configuration of the inbound and outbound queues (see queues.tf for why these numbers)."
  type = map(object({
    max_dispatches_per_second = number
    max_concurrent_dispatches = number
    max_attempts              = number
    min_backoff_seconds       = number
    max_backoff_seconds       = number
    max_doublings             = number
  }))
  default = {
    inbound  = { max_dispatches_per_second = 100, max_concurrent_dispatches = 150, max_attempts = 50, min_backoff_seconds = 1, max_backoff_seconds = 300, max_doublings = 4 }
    outbound = { max_dispatches_per_second = 60, max_concurrent_dispatches = 100, max_attempts = 50, min_backoff_seconds = 1, max_backoff_seconds = 300, max_doublings = 4 }
  }

  validation {
    condition     = join(",", sort(keys(var.queue_settings))) == "inbound,outbound"
    error_message = "queue_settings needs exactly inbound and outbound."
  }
  validation {
    condition     = alltrue([for q in values(var.queue_settings) : q.max_dispatches_per_second > 0 && q.max_dispatches_per_second <= 500 && q.max_concurrent_dispatches >= 1 && q.max_concurrent_dispatches <= 5000])
    error_message = "max_dispatches_per_second must be in (0, 500] and max_concurrent_dispatches in [1, 5000] (Cloud Tasks limits)."
  }
  validation {
    condition     = try(var.queue_settings["outbound"].max_dispatches_per_second, 0) <= 80
    error_message = "The outbound queue must not dispatch more than 80 sends/s: WhatsApp's default throughput per phone number (raise it only after Meta raised your number's limit, and then edit this check)."
  }
  validation {
    condition     = alltrue([for q in values(var.queue_settings) : q.max_attempts >= 10 && q.min_backoff_seconds >= 0.1 && q.min_backoff_seconds <= q.max_backoff_seconds && q.max_backoff_seconds <= 3600 && q.max_doublings >= 0 && q.max_doublings <= 16])
    error_message = "Retries: max_attempts >= 10 (workers answer 503 to wait), 0.1 <= min_backoff_seconds <= max_backoff_seconds <= 3600, 0 <= max_doublings <= 16."
  }
}

variable "tasks_log_sampling_ratio" {
  description = "Fraction of task attempts Cloud Tasks logs (0 = none, 1 = all)."
  type        = number
  default     = 0.1

  validation {
    condition     = var.tasks_log_sampling_ratio >= 0 && var.tasks_log_sampling_ratio <= 1
    error_message = "tasks_log_sampling_ratio must be between 0 and 1."
  }
}

# --- Firestore -----------------------------------------------------------------------------

variable "firestore_location" {
  description = "Location of the (default) Firestore database, such as nam5 or southamerica-east1; null: the region (dev only: staging and prod must choose it). Cannot change once created."
  type        = string
  default     = null

  validation {
    condition     = var.firestore_location == null || can(regex("^[a-z0-9-]+$", var.firestore_location))
    error_message = "firestore_location must be a Firestore location id such as nam5 or us-central1."
  }
}

variable "firestore_concurrency_mode" {
  description = "OPTIMISTIC (default, see firestore.tf) or PESSIMISTIC."
  type        = string
  default     = "OPTIMISTIC"

  validation {
    condition     = contains(["OPTIMISTIC", "PESSIMISTIC"], var.firestore_concurrency_mode)
    error_message = "firestore_concurrency_mode must be OPTIMISTIC or PESSIMISTIC."
  }
}

variable "firestore_point_in_time_recovery" {
  description = "Keep 7 days of point-in-time recovery for the database."
  type        = bool
  default     = true
}

variable "firestore_delete_protection" {
  description = "Refuse to delete the database (turn off only to tear down a dev project)."
  type        = bool
  default     = true
}

# --- Scheduled jobs ------------------------------------------------------------------------

variable "job_schedules" {
  description = "Cron schedules (in scheduler_time_zone) of the scheduled functions."
  type = object({
    youtube_renew         = optional(string, "17 */8 * * *")
    google_calendar_watch = optional(string, "23 */6 * * *")
    apple_calendar_poll   = optional(string, "*/5 * * * *")
  })
  default = {}

  validation {
    condition     = alltrue([for s in values(var.job_schedules) : length(split(" ", s)) == 5])
    error_message = "Every schedule must be a five-field cron expression, such as \"*/5 * * * *\"."
  }
}

variable "scheduler_time_zone" {
  description = "Time zone of job_schedules."
  type        = string
  default     = "Etc/UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.scheduler_time_zone))
    error_message = "scheduler_time_zone must be an IANA time zone such as Etc/UTC."
  }
}

# --- Build ---------------------------------------------------------------------------------

variable "build_service_account_roles" {
  description = "Project roles of the service account Cloud Build uses to turn the bundles into function images."
  type        = list(string)
  default     = ["roles/run.builder"]

  validation {
    condition     = length(var.build_service_account_roles) > 0 && alltrue([for r in var.build_service_account_roles : !contains(["roles/owner", "roles/editor"], r)])
    error_message = "build_service_account_roles must not be empty and must not include roles/owner or roles/editor."
  }
}

# --- Monitoring ----------------------------------------------------------------------------

variable "alert_notification_channels" {
  description = "Monitoring notification channel ids (projects/<p>/notificationChannels/<id>) every alert goes to."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", c))])
    error_message = "alert_notification_channels entries must be notification channel names, projects/<project id>/notificationChannels/<number>: list them with `gcloud beta monitoring channels list --format='value(name,type,displayName)'`."
  }
}

variable "alerts_enabled" {
  description = "Turn the alert policies on or off (the metrics are always kept)."
  type        = bool
  default     = true
}

variable "alert_thresholds" {
  description = "An alert opens when a metric's count over alert_window_seconds is above its threshold."
  type = object({
    dedupe_hits         = optional(number, 200)
    breaker_open        = optional(number, 0)
    send_failures       = optional(number, 5)
    ai_fallbacks        = optional(number, 10)
    rejected_deliveries = optional(number, 20)
    # Work that ran out of retries: every one is a conversation someone should look at.
    dead_letters = optional(number, 0)
  })
  default = {}

  validation {
    condition     = alltrue([for t in values(var.alert_thresholds) : t >= 0])
    error_message = "Alert thresholds must be 0 or more."
  }
}

variable "alert_window_seconds" {
  description = "The window each alert counts over."
  type        = number
  default     = 300

  validation {
    condition     = var.alert_window_seconds >= 60 && var.alert_window_seconds <= 86400
    error_message = "alert_window_seconds must be between 60 and 86400."
  }
}

# --- Checks of the settings ----------------------------------------------------------------

# Example values that would fail or mislead in a real project are refused here, at plan time,
# each with what to put instead: placeholder or foreign notification channels, example account
# ids, tenants and domains, an unchosen firestore_location or an unprotected database outside
# dev, prod without alerts, Apple calendars without an account, Instagram pages of unlisted
# accounts. Every rule is a precondition of one terraform_data resource, so a plan lists every
# problem at once, and `-target=terraform_data.settings_checks` checks them before a targeted
# apply (docs/deploy.md, step 5). Preconditions may compare variables on any Terraform >= 1.4
# (a cross-variable `validation` block would need 1.9):
# https://developer.hashicorp.com/terraform/language/expressions/custom-conditions#preconditions-and-postconditions
#
# They live in this file, which references nothing but variables, so that
# tests/unit/test_infra_settings.py can `terraform plan` it offline (terraform_data is built
# into Terraform: no provider to download) with each infra/envs/*.tfvars.

locals {
  # dev may keep the examples (envs/dev.tfvars maps the local stack's example WhatsApp number);
  # staging and prod are long-lived and serve real contacts.
  settings_strict = var.environment != "dev"

  # Project ids used as examples in docs/ and infra/envs/ (docs/deploy.md, envs/prod.tfvars).
  settings_example_projects = ["acme-atende-prod", "acme-atende-staging", "acme-atende-dev", "acme-crm", "my-atende-prod", "my-atende-staging", "my-atende-dev", "my-project", "my-project-id", "your-project-id", "project-id"]

  # Account ids shipped as examples: envs/prod.tfvars (WhatsApp, Instagram, Discord, the linked
  # page) and the local stack's WhatsApp phone number id (README, envs/dev.tfvars).
  settings_example_ids = ["123456789012345", "17841400000000000", "1234567890123456789", "100000000000000", "106540352242922"]
  # Also refused: a run of 1234567890… (6 digits or more), and a numeric id ending in eight
  # zeros (real ids are random in their last digits).
  settings_example_tenants = ["acme", "example", "tenant", "my-tenant", "your-tenant", "changeme", "change-me"]

  # Names under reserved domains (RFC 2606: example, example.com/.net/.org, test, invalid,
  # localhost) or on a loopback address can never be a real account, URL or member.
  settings_example_domain = "(?i)(^|[@./:])(([a-z0-9-]+\\.)*(example|test|invalid|localhost)|example\\.(com|net|org)|127\\.0\\.0\\.1)([/:?#]|$)"
  # What a template leaves for the operator to fill in.
  settings_placeholder = "(?i)(<|>|REPLACE|CHANGE_?ME|TODO|FIXME)"

  settings_accounts = flatten([for channel, accounts in var.channel_accounts : [for account, tenant in accounts : { channel = channel, account = account, tenant = tenant }]])

  settings_is_example_id = { for id in distinct(concat([for a in local.settings_accounts : a.account], keys(var.instagram_page_ids), values(var.instagram_page_ids))) : id => (
    contains(local.settings_example_ids, id)
    || (length(id) >= 6 && startswith("12345678901234567890", id))
    || can(regex("^[0-9]{4,}0{8}$", id))
  ) }

  settings_example_accounts     = [for a in local.settings_accounts : "${a.channel}: ${a.account}" if local.settings_is_example_id[a.account]]
  settings_example_pages        = [for account, page in var.instagram_page_ids : "${account} -> ${page}" if local.settings_is_example_id[account] || local.settings_is_example_id[page]]
  settings_example_tenants_used = distinct([for a in local.settings_accounts : a.tenant if contains(local.settings_example_tenants, lower(a.tenant))])

  # Every string an operator types that names an account, a URL or a member.
  settings_named = concat(
    [for a in local.settings_accounts : "channel_accounts.${a.channel}: ${a.account}" if can(regex(local.settings_example_domain, a.account))],
    can(regex(local.settings_example_domain, var.apple_calendar_username)) ? ["apple_calendar_username: ${var.apple_calendar_username}"] : [],
    [for m in var.agent_invoker_members : "agent_invoker_members: ${m}" if can(regex(local.settings_example_domain, m)) || anytrue([for p in local.settings_example_projects : strcontains(m, "@${p}.iam.gserviceaccount.com")])],
    var.ai_base_url != null && can(regex(local.settings_example_domain, coalesce(var.ai_base_url, "-"))) ? ["ai_base_url: ${coalesce(var.ai_base_url, "-")}"] : [],
  )
  settings_placeholders = concat(
    [for a in local.settings_accounts : "channel_accounts.${a.channel}: ${a.account} = ${a.tenant}" if can(regex(local.settings_placeholder, "${a.account} ${a.tenant}"))],
    [for account, page in var.instagram_page_ids : "instagram_page_ids: ${account} = ${page}" if can(regex(local.settings_placeholder, "${account} ${page}"))],
    [for c in var.alert_notification_channels : "alert_notification_channels: ${c}" if can(regex(local.settings_placeholder, c))],
    can(regex(local.settings_placeholder, var.apple_calendar_username)) ? ["apple_calendar_username: ${var.apple_calendar_username}"] : [],
  )

  # A channel of another project (or of an example one) cannot receive this project's alerts.
  settings_channel_pattern  = "^projects/${var.project_id}/notificationChannels/[0-9]+$"
  settings_foreign_channels = [for c in var.alert_notification_channels : c if !can(regex(local.settings_channel_pattern, c)) || endswith(c, "/1234567890123456789")]

  settings_apple_calendars    = keys(lookup(var.channel_accounts, "apple_calendar", {}))
  settings_insecure_calendars = [for url in local.settings_apple_calendars : url if !startswith(url, "https://")]
  settings_instagram_accounts = keys(lookup(var.channel_accounts, "instagram", {}))
  settings_unlinked_page_ids  = [for account in keys(var.instagram_page_ids) : account if !contains(local.settings_instagram_accounts, account)]
}

resource "terraform_data" "settings_checks" {
  lifecycle {
    precondition {
      condition     = !contains(local.settings_example_projects, var.project_id)
      error_message = "project_id \"${var.project_id}\" is an example from the docs; deploy to your own project (-var=project_id=<your project id>; in Cloud Build, the build's own project)."
    }
    precondition {
      condition     = length(local.settings_placeholders) == 0
      error_message = "Replace the placeholders left in infra/envs/${var.environment}.tfvars by real values: ${join("; ", local.settings_placeholders)}."
    }
    precondition {
      condition     = length(local.settings_foreign_channels) == 0
      error_message = "alert_notification_channels must be notification channels of this project, projects/${var.project_id}/notificationChannels/<number>; not: ${join(", ", local.settings_foreign_channels)}. List this project's channels with `gcloud beta monitoring channels list --project=${var.project_id} --format='value(name,type,displayName)'`, or create one with `gcloud beta monitoring channels create --project=${var.project_id} --display-name=\"Atende on-call\" --type=email --channel-labels=email_address=<address>`."
    }
    precondition {
      condition     = var.environment != "prod" || length(var.alert_notification_channels) > 0
      error_message = "prod needs at least one alert_notification_channels entry: without one, the alerts (dead letters, failed sends, open circuit breakers…) open where nobody is told. Create one with `gcloud beta monitoring channels create --project=${var.project_id} --display-name=\"Atende on-call\" --type=email --channel-labels=email_address=<address>` and put the name it prints (projects/${var.project_id}/notificationChannels/<number>) in infra/envs/prod.tfvars."
    }
    precondition {
      condition     = !local.settings_strict || var.firestore_location != null
      error_message = "${var.environment} must choose firestore_location explicitly: the (default) Firestore database keeps its location forever (changing it means a new database and moving the data). Pick a multi-region such as nam5 or eur3, or the functions' region (${var.region}); `gcloud firestore locations list` lists them. An existing database: set its location (`gcloud firestore databases describe --database='(default)' --format='value(locationId)'`)."
    }
    precondition {
      condition     = !local.settings_strict || var.firestore_delete_protection
      error_message = "firestore_delete_protection = false is for tearing down a dev project; ${var.environment} keeps its database protected (remove the line from infra/envs/${var.environment}.tfvars)."
    }
    precondition {
      condition     = !local.settings_strict || (length(local.settings_example_accounts) == 0 && length(local.settings_example_pages) == 0)
      error_message = "These are example ids from infra/envs/ or the docs, not accounts of yours: ${join(", ", concat(local.settings_example_accounts, [for p in local.settings_example_pages : "instagram_page_ids: ${p}"]))}. Put your own (whatsapp: the phone number id from the Meta app's WhatsApp > API Setup; messenger: the page id; instagram: the professional account id, and its linked page in instagram_page_ids; discord: the application id; docs/channels.md has each one), or leave the channel out until you have them."
    }
    precondition {
      condition     = !local.settings_strict || length(local.settings_example_tenants_used) == 0
      error_message = "channel_accounts maps accounts to example tenant ids (${join(", ", local.settings_example_tenants_used)}); use the ids of your tenants' configurations (`atende tenant set <file>`, docs/examples/tenant-demo.json)."
    }
    precondition {
      condition     = length(local.settings_named) == 0
      error_message = "These name an example or reserved domain (example, .test, .invalid, localhost) or an example project, which no real account, member or endpoint has: ${join("; ", local.settings_named)}."
    }
    precondition {
      condition     = length(local.settings_apple_calendars) == 0 || var.apple_calendar_username != ""
      error_message = "channel_accounts.apple_calendar lists calendars but apple_calendar_username is empty: apple_calendar_poll could not sign in to iCloud. Set apple_calendar_username to the Apple Account whose app-specific password is in the apple-calendar-app-password secret."
    }
    precondition {
      condition     = length(local.settings_insecure_calendars) == 0
      error_message = "channel_accounts.apple_calendar keys must be https:// CalDAV calendar collection URLs (iCloud's); not: ${join(", ", local.settings_insecure_calendars)}."
    }
    precondition {
      condition     = length(local.settings_unlinked_page_ids) == 0
      error_message = "instagram_page_ids names Instagram accounts that channel_accounts.instagram does not list: ${join(", ", local.settings_unlinked_page_ids)} (a misspelt account id would send from the wrong endpoint)."
    }
  }
}
