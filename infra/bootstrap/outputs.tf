output "deployer_service_account" {
  description = "The deploy trigger's --service-account (projects/<project>/serviceAccounts/<email>)."
  value       = google_service_account.deployer.id
}

output "ci_service_account" {
  description = "The CI trigger's --service-account (projects/<project>/serviceAccounts/<email>)."
  value       = google_service_account.ci.id
}

output "state_bucket" {
  description = "The _STATE_BUCKET substitution of the deploy trigger."
  value       = google_storage_bucket.state.name
}

output "bundles_bucket" {
  description = "The _BUNDLES_BUCKET substitution of both triggers."
  value       = google_storage_bucket.bundles.name
}

output "smoke_service_account" {
  description = "The smoke trigger's --service-account (projects/<project>/serviceAccounts/<email>)."
  value       = google_service_account.smoke.id
}
