"""The schema checker on names across files: the variables of a module call, references to
undeclared names (not inside string literals), and the variables a tfvars file sets."""

from __future__ import annotations

from pathlib import Path

from infra_schema_support import check_files
from tests.infra_schema.checker import Checker

# -- module calls ------------------------------------------------------------------------------

_MODULE = {
    "modules/function/variables.tf": """
    variable "name" {
      type = string
    }
    variable "labels" {
      type    = map(string)
      default = {}
    }
    variable "region" {
      type    = string
      default = null
    }
    """,
    "modules/function/outputs.tf": """
    output "url" {
      value = "https://${var.region}/${var.name}"
    }
    """,
}


def test_a_module_call_passing_an_undeclared_variable_is_reported(
    checker: Checker, tmp_path: Path
) -> None:
    files = {
        **_MODULE,
        "main.tf": """
        module "f" {
          source   = "./modules/function"
          for_each = toset(["a"])
          name     = each.key
          regoin   = "us-central1"
        }
        """,
    }
    assert check_files(checker, tmp_path, files) == [
        f"{tmp_path.name}/main.tf: module f: "
        'passes "regoin", which the module does not declare (did you mean "region"?)'
    ]


def test_a_module_call_missing_a_required_variable_is_reported(
    checker: Checker, tmp_path: Path
) -> None:
    files = {
        **_MODULE,
        "main.tf": """
        module "f" {
          source = "./modules/function"
        }
        module "g" {
          source = "./modules/nowhere"
          name   = "g"
        }
        """,
    }
    assert check_files(checker, tmp_path, files) == [
        f"{tmp_path.name}/main.tf: module f: "
        'does not pass "name", which the module requires (no default)',
        f"{tmp_path.name}/main.tf: module g: "
        'source "./modules/nowhere" is not a directory of *.tf files',
    ]


# -- references --------------------------------------------------------------------------------


def test_references_to_undeclared_names_are_reported(checker: Checker, tmp_path: Path) -> None:
    files = {
        **_MODULE,
        "main.tf": """
        variable "region" {
          type = string
        }
        locals {
          base = "https://${var.region}"
        }
        module "f" {
          source = "./modules/function"
          name   = "${local.bsae}/f"
          labels = { region = var.regoin }
        }
        output "url" {
          value = [module.f.url, module.f.uri, module.g.url]
        }
        resource "google_service_account" "a" {
          account_id   = "atende-a"
          display_name = google_service_account.b.email
          description  = data.archive_file.bundle.output_sha256
        }
        """,
    }
    prefix = f"{tmp_path.name}/main.tf: "
    assert check_files(checker, tmp_path, files) == [
        prefix + 'module f: local.bsae refers to an undeclared local value "bsae"',
        prefix + 'module f: var.regoin refers to an undeclared variable "regoin"',
        prefix + 'output url: module.f.uri: module "f" has no output "uri"',
        prefix + 'output url: module.g refers to an undeclared module "g"',
        prefix + "resource google_service_account.a: "
        "google_service_account.b refers to an undeclared resource",
        prefix + "resource google_service_account.a: "
        "data.archive_file.bundle refers to an undeclared data source",
    ]


def test_names_inside_string_literals_are_not_references(checker: Checker, tmp_path: Path) -> None:
    files = {
        "main.tf": """
        variable "project" {
          type = string
        }
        locals {
          role  = "roles/run.invoker"
          text  = "local.nothing and var.nothing are words here, and so is google_x.y"
          quote = "${var.project}: \\"local.nothing\\" ${join(", ", ["var.nothing"])}"
          kept  = "${local.missing}"
        }
        """
    }
    assert check_files(checker, tmp_path, files) == [
        f"{tmp_path.name}/main.tf: locals: "
        'local.missing refers to an undeclared local value "missing"'
    ]


def test_tfvars_set_only_declared_variables(checker: Checker, tmp_path: Path) -> None:
    files = {
        "main.tf": """
        variable "region" {
          type = string
        }
        """,
        "envs/dev.tfvars": """
        region  = "us-central1"
        regiion = "us-east1"
        """,
    }
    assert check_files(checker, tmp_path, files) == [
        f"{tmp_path.name}/envs/dev.tfvars: "
        "regiion: sets a variable the root module does not declare"
    ]
