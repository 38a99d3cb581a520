output "webhook_urls" {
  description = "Channel -> the URL to register with the provider (docs/channels.md)."
  value       = { for channel, fn in module.webhook : channel => fn.url }
}

output "agent_url" {
  description = "The agent API the CRM calls (Authorization: Bearer <agent API token>; in private mode also X-Serverless-Authorization: Bearer <Google ID token>)."
  value       = module.agent["agent_reply"].url
}

output "private_function_urls" {
  description = "Workers and jobs, callable only with an OIDC token of the invoker service account."
  value       = merge({ for name, fn in module.worker : name => fn.url }, { for name, fn in module.job : name => fn.url })
}

output "function_service_accounts" {
  description = "Function -> the service account it runs as."
  value = merge(
    { for channel, fn in module.webhook : "${channel}_webhook" => fn.service_account_email },
    { for name, fn in module.worker : name => fn.service_account_email },
    { for name, fn in module.job : name => fn.service_account_email },
    { for name, fn in module.agent : name => fn.service_account_email },
  )
}

output "google_calendar_service_accounts" {
  description = "Share every Google calendar with these accounts (Make changes to events): the watch job opens channels, process_inbound syncs and books."
  value       = [module.job["google_calendar_watch"].service_account_email, module.worker["process_inbound"].service_account_email]
}

output "tasks_invoker_service_account" {
  description = "ATENDE_TASKS_SERVICE_ACCOUNT: the identity of Cloud Tasks' and Cloud Scheduler's OIDC tokens."
  value       = google_service_account.invoker.email
}

output "secret_ids" {
  description = "Secret name -> Secret Manager secret id; add versions out of band (docs/deploy.md)."
  value       = { for name, secret in google_secret_manager_secret.secret : name => secret.secret_id }
}

output "queues" {
  description = "The Cloud Tasks queues."
  value       = { inbound = google_cloud_tasks_queue.inbound.name, outbound = google_cloud_tasks_queue.outbound.name }
}
