# State lives in a GCS bucket, one prefix per environment. The bucket and prefix are given at
# init time (partial configuration), so the same code serves every environment:
#
#   terraform -chdir=infra init \
#     -backend-config="bucket=<state bucket>" \
#     -backend-config="prefix=atende/<env>"
#
# The bucket is created by infra/bootstrap, with versioning on (docs/deploy.md, "Bootstrap
# the project"). The state holds no secret values: secret versions are added out of band
# (secrets.tf).
terraform {
  backend "gcs" {}
}
