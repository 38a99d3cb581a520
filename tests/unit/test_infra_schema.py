"""infra/ against the real schema of the pinned providers, offline (tests/infra_schema).

`terraform validate` cannot download providers here, so a misspelt argument or a block nested
in the wrong place would first show in a real `terraform plan`. The schema comes from the cdktf
packages generated from exactly the provider versions infra/versions.tf pins
(`make infra-check` installs them into .cache/tfschema).
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from tests.infra_schema import pins
from tests.infra_schema.checker import Checker
from tests.infra_schema.schema import SchemaError, check_installed


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def _checker() -> Checker:
    """The checker, with the schema packages of infra/'s pins. Missing ones fail the tests in
    CI and wherever npm could install them; elsewhere they skip, saying why."""
    wanted = pins.pins()
    try:
        for pin in wanted:
            check_installed(pin)
    except SchemaError as error:
        if _in_ci() or shutil.which("npm") is not None:
            pytest.fail(f"the provider schema packages are missing: {error}")
        pytest.skip(f"npm is not installed, so the provider schema cannot be: {error}")
    return Checker(wanted)


@pytest.fixture(scope="session")
def checker() -> Checker:
    return _checker()


def _problems(checker: Checker, root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return [str(problem) for problem in checker.check(root)]


_QUEUE = """
variable "region" {
  type = string
}

resource "google_cloud_tasks_queue" "q" {
  name     = "atende-inbound"
  location = var.region
%s
}
"""


def _queue(body: str) -> dict[str, str]:
    return {"main.tf": _QUEUE % textwrap.indent(textwrap.dedent(body), "  ")}


# -- infra/ itself -----------------------------------------------------------------------------


def test_infra_matches_the_schema_of_its_pinned_providers(checker: Checker) -> None:
    problems = [str(problem) for problem in checker.check(pins.INFRA)]
    assert problems == [], "infra/ would fail `terraform validate`:\n" + "\n".join(problems)


def test_each_pinned_provider_is_checked_against_the_package_built_from_it(
    checker: Checker,
) -> None:
    declared = pins.declared_pins()
    assert {"google", "archive"} <= set(declared)
    for pin in pins.pins():
        assert declared[pin.name] == (pin.source, f"= {pin.version}")
        check_installed(pin)  # the installed package says it was generated from that version


def test_moving_a_pin_without_its_schema_package_fails(tmp_path: Path) -> None:
    (tmp_path / "versions.tf").write_text(
        (pins.INFRA / "versions.tf").read_text().replace('"= 6.50.0"', '"= 6.51.0"')
    )
    with pytest.raises(
        pins.PinError, match=r"pins hashicorp/google 6\.51\.0.*@cdktf/provider-google"
    ):
        pins.pins(tmp_path)


def test_a_loose_pin_fails(tmp_path: Path) -> None:
    (tmp_path / "versions.tf").write_text(
        (pins.INFRA / "versions.tf").read_text().replace('"= 6.50.0"', '"~> 6.50"')
    )
    with pytest.raises(pins.PinError, match="pin one exact version"):
        pins.pins(tmp_path)


def test_a_module_pinning_another_version_fails(tmp_path: Path) -> None:
    versions = (pins.INFRA / "versions.tf").read_text()
    (tmp_path / "versions.tf").write_text(versions)
    (tmp_path / "modules" / "m").mkdir(parents=True)
    (tmp_path / "modules" / "m" / "versions.tf").write_text(
        versions.replace('"= 2.7.1"', '"= 2.7.0"')
    )
    with pytest.raises(pins.PinError, match="pin one version everywhere"):
        pins.pins(tmp_path)


def test_missing_schema_packages_fail_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pins, "CACHE", tmp_path / "empty")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"missing: .*is not installed.*pins install"):
        _checker()
    monkeypatch.delenv("CI")
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(pytest.skip.Exception, match="npm is not installed"):
        _checker()


def test_a_package_built_from_another_provider_version_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin = next(pin for pin in pins.pins() if pin.name == "google")
    monkeypatch.setattr(pins, "CACHE", tmp_path)
    pin.package_dir.mkdir(parents=True)
    (pin.package_dir / "package.json").write_text(
        json.dumps({"version": "16.11.0", "cdktf": {"provider": {"version": "6.49.0"}}})
    )
    with pytest.raises(SchemaError, match=r"16\.11\.0 built from hashicorp/google 6\.49\.0"):
        check_installed(pin)


# -- resources and their blocks ----------------------------------------------------------------


def test_a_well_formed_queue_passes(checker: Checker, tmp_path: Path) -> None:
    body = """
    rate_limits {
      max_dispatches_per_second = 10
    }
    retry_config {
      max_attempts = 5
    }
    """
    assert _problems(checker, tmp_path, _queue(body)) == []


def test_a_misspelled_argument_is_reported(checker: Checker, tmp_path: Path) -> None:
    body = """
    rate_limits {
      max_dispatch_per_second = 10
    }
    """
    assert _problems(checker, tmp_path, _queue(body)) == [
        f"{tmp_path.name}/main.tf: resource google_cloud_tasks_queue.q: rate_limits > "
        'unknown argument "max_dispatch_per_second" (did you mean "max_dispatches_per_second"?)'
    ]


def test_a_missing_required_argument_is_reported(checker: Checker, tmp_path: Path) -> None:
    files = {
        "main.tf": """
        resource "google_cloud_tasks_queue" "q" {
          name = "atende-inbound"
        }
        """
    }
    assert _problems(checker, tmp_path, files) == [
        f"{tmp_path.name}/main.tf: resource google_cloud_tasks_queue.q: "
        'missing required argument "location"'
    ]


def test_a_missing_required_nested_argument_or_block_is_reported(
    checker: Checker, tmp_path: Path
) -> None:
    body = """
    stackdriver_logging_config {}
    """
    files = {
        **_queue(body),
        "index.tf": """
        resource "google_firestore_index" "i" {
          collection = "handoffs"
        }
        """,
    }
    problems = _problems(checker, tmp_path, files)
    assert any(
        'stackdriver_logging_config > missing required argument "sampling_ratio"' in p
        for p in problems
    )
    assert any('google_firestore_index.i: missing required block "fields"' in p for p in problems)


def test_a_block_written_as_an_argument_is_reported(checker: Checker, tmp_path: Path) -> None:
    body = """
    retry_config = {
      max_attempts = 5
    }
    """
    assert _problems(checker, tmp_path, _queue(body)) == [
        f"{tmp_path.name}/main.tf: resource google_cloud_tasks_queue.q: "
        '"retry_config" is a block, not an argument: write retry_config { ... }, '
        "not retry_config = ..."
    ]


def test_an_argument_written_as_a_block_is_reported(checker: Checker, tmp_path: Path) -> None:
    files = {
        "main.tf": """
        resource "google_service_account" "a" {
          account_id = "atende-a"
          labels {
            app = "atende"
          }
        }
        """
    }
    problems = _problems(checker, tmp_path, files)
    # google_service_account has no labels at all: unknown, whatever its shape.
    assert problems == [
        f'{tmp_path.name}/main.tf: resource google_service_account.a: unknown block "labels"'
    ]
    files = {
        "main.tf": """
        resource "google_secret_manager_secret" "s" {
          secret_id = "S"
          replication {
            auto {}
          }
          labels {
            app = "atende"
          }
        }
        """
    }
    assert _problems(checker, tmp_path, files) == [
        f"{tmp_path.name}/main.tf: resource google_secret_manager_secret.s: "
        '"labels" is an argument, not a block: write labels = ..., not labels { ... }'
    ]


def test_an_argument_in_the_wrong_block_is_reported(checker: Checker, tmp_path: Path) -> None:
    body = """
    max_attempts = 5
    rate_limits {
      max_doublings = 2
    }
    """
    assert _problems(checker, tmp_path, _queue(body)) == [
        f"{tmp_path.name}/main.tf: resource google_cloud_tasks_queue.q: "
        'unknown argument "max_attempts" here; it belongs in block retry_config',
        f"{tmp_path.name}/main.tf: resource google_cloud_tasks_queue.q: rate_limits > "
        'unknown argument "max_doublings" here; it belongs in block retry_config',
    ]


def test_a_block_allowed_once_given_twice_is_reported(checker: Checker, tmp_path: Path) -> None:
    body = """
    rate_limits {
      max_dispatches_per_second = 10
    }
    rate_limits {
      max_concurrent_dispatches = 10
    }
    """
    assert _problems(checker, tmp_path, _queue(body)) == [
        f"{tmp_path.name}/main.tf: resource google_cloud_tasks_queue.q: "
        'block "rate_limits" is allowed once (max_items = 1), given 2 times'
    ]


def test_repeatable_blocks_may_repeat(checker: Checker, tmp_path: Path) -> None:
    files = {
        "main.tf": """
        resource "google_firestore_index" "i" {
          collection = "handoffs"
          fields {
            field_path = "tenant_id"
            order      = "ASCENDING"
          }
          fields {
            field_path = "status"
            order      = "ASCENDING"
          }
        }
        """
    }
    assert _problems(checker, tmp_path, files) == []


def test_dynamic_blocks_are_checked_like_the_blocks_they_generate(
    checker: Checker, tmp_path: Path
) -> None:
    files = {
        "main.tf": """
        variable "fields" {
          type = list(string)
        }

        resource "google_firestore_index" "i" {
          collection = "handoffs"
          dynamic "fields" {
            for_each = var.fields
            content {
              field_path = fields.value
              ordr       = "ASCENDING"
            }
          }
          dynamic "query_scope" {
            for_each = [1]
            content {}
          }
          dynamic "feilds" {
            for_each = var.fields
            content {}
          }
        }
        """
    }
    assert _problems(checker, tmp_path, files) == [
        f"{tmp_path.name}/main.tf: resource google_firestore_index.i: "
        'dynamic "fields" > content > unknown argument "ordr" (did you mean "order"?)',
        f"{tmp_path.name}/main.tf: resource google_firestore_index.i: "
        'dynamic "query_scope" > "query_scope" is an argument; dynamic generates blocks only',
        f"{tmp_path.name}/main.tf: resource google_firestore_index.i: "
        'dynamic "feilds" > unknown block "feilds" (did you mean "fields"?)',
    ]


def test_meta_arguments_are_accepted_everywhere(checker: Checker, tmp_path: Path) -> None:
    files = {
        "main.tf": """
        variable "on" {
          type = bool
        }

        resource "google_service_account" "a" {
          count      = var.on ? 1 : 0
          account_id = "atende-a"
          provider   = google.other
          depends_on = [terraform_data.check]

          lifecycle {
            create_before_destroy = true
            ignore_changes        = [description]
            precondition {
              condition     = var.on
              error_message = "off"
            }
            postcondition {
              condition     = self.email != ""
              error_message = "no e-mail"
            }
          }

          provisioner "local-exec" {
            command = "true"
          }
        }

        provider "google" {
          alias   = "other"
          project = "p"
        }

        resource "terraform_data" "check" {
          input            = var.on
          triggers_replace = [var.on]
        }

        data "archive_file" "z" {
          for_each    = toset(["a"])
          type        = "zip"
          output_path = "${path.module}/${each.key}.zip"
          source_dir  = path.module

          lifecycle {
            precondition {
              condition     = var.on
              error_message = "off"
            }
          }
        }
        """
    }
    assert _problems(checker, tmp_path, files) == []


def test_lifecycle_is_checked_against_its_documented_schema(
    checker: Checker, tmp_path: Path
) -> None:
    files = {
        "main.tf": """
        resource "terraform_data" "check" {
          output = "x"
          lifecycle {
            prevent_destroy_now = true
            precondition {
              condition = true
            }
          }
        }
        data "archive_file" "z" {
          type        = "zip"
          output_path = "z.zip"
          lifecycle {
            create_before_destroy = true
          }
        }
        """
    }
    prefix = f"{tmp_path.name}/main.tf: "
    assert _problems(checker, tmp_path, files) == [
        prefix + 'resource terraform_data.check: unknown argument "output"',
        prefix + "resource terraform_data.check: lifecycle > "
        'unknown argument "prevent_destroy_now" (did you mean "prevent_destroy"?)',
        prefix + "resource terraform_data.check: lifecycle > precondition > "
        'missing required argument "error_message"',
        prefix + 'data archive_file.z: lifecycle > unknown argument "create_before_destroy"',
    ]


def test_unknown_types_and_providers_are_reported(checker: Checker, tmp_path: Path) -> None:
    files = {
        "main.tf": """
        resource "google_cloud_task_queue" "q" {
          name = "x"
        }
        data "google_cloud_tasks_queue" "q" {}
        resource "random_id" "r" {}
        provider "google" {
          projekt = "p"
        }
        """
    }
    prefix = f"{tmp_path.name}/main.tf: "
    assert sorted(_problems(checker, tmp_path, files)) == [
        prefix + "data google_cloud_tasks_queue.q: hashicorp/google 6.50.0 has no data source "
        '"google_cloud_tasks_queue" (@cdktf/provider-google@16.12.0)',
        prefix + 'provider google: unknown argument "projekt" (did you mean "project"?)',
        prefix + "resource google_cloud_task_queue.q: hashicorp/google 6.50.0 has no resource "
        'type "google_cloud_task_queue" (@cdktf/provider-google@16.12.0)',
        prefix + 'resource random_id.r: no pinned provider "random" (required_providers) '
        "to check it against",
    ]


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
    assert _problems(checker, tmp_path, files) == [
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
    assert _problems(checker, tmp_path, files) == [
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
    assert _problems(checker, tmp_path, files) == [
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
    assert _problems(checker, tmp_path, files) == [
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
    assert _problems(checker, tmp_path, files) == [
        f"{tmp_path.name}/envs/dev.tfvars: "
        "regiion: sets a variable the root module does not declare"
    ]
