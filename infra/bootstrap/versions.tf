# The bootstrap of one project: run once (and again after changing its variables) by an owner
# of the project, with Application Default Credentials (docs/deploy.md, "Bootstrap"):
#
#   gcloud auth application-default login
#   gcloud auth application-default set-quota-project "$PROJECT"
#   terraform -chdir=infra/bootstrap init
#   terraform -chdir=infra/bootstrap apply -var="project_id=$PROJECT" -var="region=$REGION" \
#     -var='approvers=["user:alice@example.com"]'
#
# State: local (infra/bootstrap/terraform.tfstate, git-ignored). The bootstrap creates the
# state bucket infra/ uses, so it cannot keep its own state there before it exists, and it
# should not afterwards: the deployer may write that bucket, and it must not be able to edit
# the record of its own grants. The state holds no secret (no keys, no secret values): keep
# the file with the project's owners, or rebuild it with `terraform import` (docs/deploy.md).
#
# Same provider pin as infra/ (tests/infra_schema/pins.py checks every module pins the same).
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "= 6.50.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app        = "atende"
    managed-by = "terraform-bootstrap"
  }
}
