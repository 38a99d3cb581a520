"""An offline check of infra/ against the real schema of the pinned Terraform providers.

`terraform validate` needs the providers, which cannot be downloaded where the tests run. The
schema of every resource, data source and provider block comes instead from the npm packages
the Terraform CDK generated from exactly the pinned provider version (`pins`), read by
`schema`; `checker` compares every block of infra/ with it.

`pins` uses the standard library only: `.ci/infra-check` runs it with the system Python to
install the packages (`python3 -m tests.infra_schema.pins install`).
"""
