# Terraform and provider versions, pinned exactly: a plan made today and one made next month
# must use the same provider code. Upgrade on purpose, in a commit of its own.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "= 6.50.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "= 2.7.1"
    }
    # time_sleep: the wait between the log-based metrics and their alert policies
    # (monitoring.tf).
    time = {
      source  = "hashicorp/time"
      version = "= 0.13.1"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app         = "atende"
    environment = var.environment
    managed-by  = "terraform"
  }
}

provider "archive" {}
