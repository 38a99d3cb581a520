variable "project_id" {
  description = "The project of one environment (dev, staging or prod)."
  type        = string
}

variable "region" {
  description = "Where the state and bundles buckets live: the region infra/ deploys to."
  type        = string
  default     = "us-central1"
}

variable "state_bucket" {
  description = "The Terraform state bucket of infra/ (the pipeline's _STATE_BUCKET). Empty: <project>-tfstate."
  type        = string
  default     = ""
}

variable "approvers" {
  description = "Members who may approve pending builds (roles/cloudbuild.builds.approver), e.g. [\"user:alice@example.com\", \"group:atende-release@example.com\"]. Required wherever a trigger uses --require-approval (production)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.approvers : can(regex("^(user|group|serviceAccount|domain):[^ ]+$", m))])
    error_message = "approvers entries must be IAM members: user:<email>, group:<email>, serviceAccount:<email> or domain:<domain>."
  }
}

# Must equal infra/variables.tf's build_service_account_roles (the default and any value an
# env file sets): the deployer may grant these at project level and no other role.
# tests/unit/test_infra_deployer.py checks that the defaults match.
variable "build_service_account_roles" {
  description = "The project roles infra/ grants its function-build account (infra/ variable of the same name)."
  type        = list(string)
  default     = ["roles/run.builder"]

  validation {
    condition     = length(var.build_service_account_roles) > 0 && alltrue([for r in var.build_service_account_roles : !contains(["roles/owner", "roles/editor", "roles/resourcemanager.projectIamAdmin"], r)])
    error_message = "build_service_account_roles must not be empty and must not include roles/owner, roles/editor or roles/resourcemanager.projectIamAdmin."
  }
}

variable "google_calendar_api" {
  description = "Enable the Google Calendar API (only with the Google Calendar channel)."
  type        = bool
  default     = false
}

variable "bundle_retention_days" {
  description = "Tested bundles are deleted from the bundles bucket after this many days."
  type        = number
  default     = 30

  validation {
    condition     = var.bundle_retention_days >= 1
    error_message = "bundle_retention_days must be at least 1."
  }
}
