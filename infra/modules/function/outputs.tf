output "name" {
  description = "The function's name."
  value       = google_cloudfunctions2_function.this.name
}

output "url" {
  description = "The function's HTTPS URL (https://REGION-PROJECT.cloudfunctions.net/NAME)."
  value       = google_cloudfunctions2_function.this.url
}

output "service" {
  description = "The Cloud Run service behind the function."
  value       = google_cloudfunctions2_function.this.service_config[0].service
}

output "service_account_email" {
  description = "The function's own service account."
  value       = google_service_account.this.email
}
