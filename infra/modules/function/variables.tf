variable "name" {
  description = "The function's name, which is also its entry point and its folder under functions/ and build/."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,61}[a-z0-9]$", var.name))
    error_message = "name must be a Python identifier in lower case (the entry point), at most 63 characters."
  }
}

variable "kind" {
  description = "webhook, worker, job or agent (atende.deployment)."
  type        = string

  validation {
    condition     = contains(["webhook", "worker", "job", "agent"], var.kind)
    error_message = "kind must be webhook, worker, job or agent."
  }
}

variable "description" {
  description = "What the function does, shown in the console."
  type        = string
}

variable "project_id" {
  description = "The project of the function and its service account."
  type        = string
}

variable "region" {
  description = "The function's region."
  type        = string
}

variable "runtime" {
  description = "Cloud Functions runtime."
  type        = string

  validation {
    condition     = can(regex("^python3[0-9]+$", var.runtime))
    error_message = "runtime must be a python3 runtime such as python312."
  }
}

variable "bundles_path" {
  description = "Directory holding one bundle per function (build/, from `make package`); this function's is <bundles_path>/<name>/."
  type        = string
}

variable "source_bucket" {
  description = "Bucket the zipped bundle is uploaded to."
  type        = string
}

variable "build_service_account" {
  description = "Resource id (projects/<p>/serviceAccounts/<email>) of the service account Cloud Build builds the function as."
  type        = string
}

variable "scaling" {
  description = "Memory, CPU, concurrency, timeout and instance bounds."
  type = object({
    memory          = string
    cpu             = string
    concurrency     = number
    timeout_seconds = number
    min_instances   = number
    max_instances   = number
  })

  validation {
    condition     = can(regex("^[0-9]+(M|Mi|G|Gi)$", var.scaling.memory))
    error_message = "scaling.memory must be a size such as 256M or 1Gi."
  }
  validation {
    condition     = can(tonumber(var.scaling.cpu)) && var.scaling.concurrency >= 1 && (var.scaling.concurrency == 1 || try(tonumber(var.scaling.cpu), 0) >= 1)
    error_message = "scaling.cpu must be a number; a concurrency above 1 needs at least one whole CPU."
  }
  validation {
    condition     = var.scaling.min_instances >= 0 && var.scaling.min_instances <= var.scaling.max_instances && var.scaling.timeout_seconds >= 1 && var.scaling.timeout_seconds <= 3600
    error_message = "scaling needs 0 <= min_instances <= max_instances and a timeout of 1..3600 s."
  }
}

variable "environment" {
  description = "Environment variables. Never secrets: the code reads those from Secret Manager."
  type        = map(string)

  validation {
    condition     = alltrue([for key in keys(var.environment) : !can(regex("(SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY)$", key))])
    error_message = "An environment variable is named like a secret; secrets come from Secret Manager at run time, never from the environment."
  }
}

variable "secrets" {
  description = "The secrets this function reads: secret name (WHATSAPP_APP_SECRET) -> Secret Manager secret resource id. Its own service account, and only it, gets accessor on each."
  type        = map(string)
}

variable "public" {
  description = "Anyone may invoke it (allUsers run.invoker): for webhooks, which check their provider's signature themselves. Under domain restricted sharing the project needs an exception (docs/deploy.md)."
  type        = bool
}

variable "invoker_members" {
  description = "IAM members that may invoke it (run.invoker), by a stable key: for private functions, the tasks/scheduler invoker service account."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for m in values(var.invoker_members) : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "invoker_members must name identities; use public = true for allUsers."
  }
}

variable "firestore" {
  description = "The function reads and writes Firestore (roles/datastore.user)."
  type        = bool
}

variable "enqueue_queues" {
  description = "Queues the function creates tasks in, by a stable key (inbound, outbound) -> queue id."
  type        = map(string)
  default     = {}
}

variable "tasks_service_account_id" {
  description = "Resource id of the service account tasks carry OIDC tokens of; a function that enqueues must be able to act as it."
  type        = string
}

variable "labels" {
  description = "Labels of the function."
  type        = map(string)
  default     = {}
}
