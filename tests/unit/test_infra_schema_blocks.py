"""The schema checker on resources and their blocks: misspelt, missing, misplaced or
repeated arguments and blocks, dynamic blocks, meta-arguments, lifecycle, unknown types."""

from __future__ import annotations

import textwrap
from pathlib import Path

from infra_schema_support import check_files
from tests.infra_schema.checker import Checker

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


def test_a_well_formed_queue_passes(checker: Checker, tmp_path: Path) -> None:
    body = """
    rate_limits {
      max_dispatches_per_second = 10
    }
    retry_config {
      max_attempts = 5
    }
    """
    assert check_files(checker, tmp_path, _queue(body)) == []


def test_a_misspelled_argument_is_reported(checker: Checker, tmp_path: Path) -> None:
    body = """
    rate_limits {
      max_dispatch_per_second = 10
    }
    """
    assert check_files(checker, tmp_path, _queue(body)) == [
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
    assert check_files(checker, tmp_path, files) == [
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
    problems = check_files(checker, tmp_path, files)
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
    assert check_files(checker, tmp_path, _queue(body)) == [
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
    problems = check_files(checker, tmp_path, files)
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
    assert check_files(checker, tmp_path, files) == [
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
    assert check_files(checker, tmp_path, _queue(body)) == [
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
    assert check_files(checker, tmp_path, _queue(body)) == [
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
    assert check_files(checker, tmp_path, files) == []


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
    assert check_files(checker, tmp_path, files) == [
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
    assert check_files(checker, tmp_path, files) == []


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
    assert check_files(checker, tmp_path, files) == [
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
    assert sorted(check_files(checker, tmp_path, files)) == [
        prefix + "data google_cloud_tasks_queue.q: hashicorp/google 6.50.0 has no data source "
        '"google_cloud_tasks_queue" (@cdktf/provider-google@16.12.0)',
        prefix + 'provider google: unknown argument "projekt" (did you mean "project"?)',
        prefix + "resource google_cloud_task_queue.q: hashicorp/google 6.50.0 has no resource "
        'type "google_cloud_task_queue" (@cdktf/provider-google@16.12.0)',
        prefix + 'resource random_id.r: no pinned provider "random" (required_providers) '
        "to check it against",
    ]
