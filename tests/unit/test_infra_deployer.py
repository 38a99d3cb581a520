"""The deployer's grants (infra/bootstrap/) against what infra/ creates, both ways.

infra/bootstrap/ grants the deployer (`atende-deployer`, which runs terraform in infra/) one
role per need; this test parses infra/**/*.tf (not bootstrap) for the resource types it
declares and checks, with the table below (resource type -> the deployer role that covers
it, with the permission that matters and where it is documented):

- every resource type infra/ uses is covered by a role the bootstrap grants the deployer, so a
  new resource type fails here until the bootstrap grants what it needs;
- every role the bootstrap grants the deployer is needed by a resource type infra/ uses (or by
  the deploy build itself), so a grant that is no longer needed fails too;
- every role that can change an IAM policy is granted with the documented
  `modifiedGrantsByRole` condition, and the project-level one lists exactly the roles infra/
  grants with google_project_iam_member: a new project role in infra/ fails here until the
  bootstrap allows it;
- the deployer cannot read a secret's value, and the CI account holds no deploy right.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from atende.packaging import REPO_ROOT

INFRA = REPO_ROOT / "infra"
BOOTSTRAP = INFRA / "bootstrap"
_OPTIONS = SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=False
)
DEPLOYER = "${local.deployer}"
CI = "serviceAccount:${google_service_account.ci.email}"
SECRETS_ROLE = "custom:atendeDeployerSecrets"
BUCKETS_ROLE = "custom:atendeDeployerBuckets"
SOURCES_OBJECTS = "roles/storage.objectUser (sources bucket only)"

#: Resource (and data source) type of infra/ -> the deployer roles that cover it. The
#: permission that matters, from https://cloud.google.com/iam/docs/roles-permissions/<service>.
TYPE_ROLES: dict[str, set[str]] = {
    # cloudfunctions.functions.create/update/delete (Cloud Functions Developer; it cannot set
    # IAM policies) and iam.serviceAccounts.actAs on the function's runtime and build
    # accounts (Service Account User).
    "google_cloudfunctions2_function": {
        "roles/cloudfunctions.developer",
        "roles/iam.serviceAccountUser",
    },
    # run.services.setIamPolicy: Cloud Run Admin only ("Cloud Run Developer ... can get but
    # not set IAM policies", https://cloud.google.com/run/docs/securing/managing-access).
    "google_cloud_run_service_iam_member": {"roles/run.admin"},
    # cloudscheduler.jobs.create/update/delete, and actAs on atende-invoker for the OIDC token.
    "google_cloud_scheduler_job": {"roles/cloudscheduler.admin", "roles/iam.serviceAccountUser"},
    # cloudtasks.queues.create/update/delete/setIamPolicy, no cloudtasks.tasks.* (Cloud Tasks
    # Queue Admin).
    "google_cloud_tasks_queue": {"roles/cloudtasks.queueAdmin"},
    "google_cloud_tasks_queue_iam_member": {"roles/cloudtasks.queueAdmin"},
    # datastore.databases.create: "Owner or Datastore Owner"
    # (https://cloud.google.com/firestore/native/docs/manage-databases); indexes and fields.
    "google_firestore_database": {"roles/datastore.owner"},
    "google_firestore_field": {"roles/datastore.owner"},
    "google_firestore_index": {"roles/datastore.owner"},
    # logging.logMetrics.create/update/delete (Logs Configuration Writer).
    "google_logging_metric": {"roles/logging.configWriter"},
    # monitoring.alertPolicies.create/update/delete (Monitoring AlertPolicy Editor).
    "google_monitoring_alert_policy": {"roles/monitoring.alertPolicyEditor"},
    # resourcemanager.projects.setIamPolicy, limited by its condition.
    "google_project_iam_member": {"roles/resourcemanager.projectIamAdmin"},
    # secretmanager.secrets.create/update/delete/setIamPolicy, never versions.*.
    "google_secret_manager_secret": {SECRETS_ROLE},
    "google_secret_manager_secret_iam_member": {SECRETS_ROLE},
    # iam.serviceAccounts.create/delete/update/setIamPolicy (Service Account Admin).
    "google_service_account": {"roles/iam.serviceAccountAdmin"},
    "google_service_account_iam_member": {"roles/iam.serviceAccountAdmin"},
    # storage.buckets.create/get/update/delete, no object or IAM permission.
    "google_storage_bucket": {BUCKETS_ROLE},
    # storage.objects.create/get/delete in the sources bucket only.
    "google_storage_bucket_object": {SOURCES_OBJECTS},
    # No Google Cloud API call.
    "archive_file": set(),
    "terraform_data": set(),
    "time_sleep": set(),
}
#: What the deploy build needs beyond infra/'s resources.
PIPELINE_ROLES = {
    "roles/logging.logWriter": "its logs (CLOUD_LOGGING_ONLY with a user-specified account)",
    "roles/cloudbuild.builds.viewer": "finding the CI build of its commit (builds.list/get)",
}
#: Resource-level IAM resources of infra/ -> the deployer role whose condition must allow
#: the role they grant.
IAM_RESOURCE_GRANTER = {
    "google_cloud_run_service_iam_member": "roles/run.admin",
    "google_cloud_tasks_queue_iam_member": "roles/cloudtasks.queueAdmin",
    "google_secret_manager_secret_iam_member": SECRETS_ROLE,
    "google_service_account_iam_member": "roles/iam.serviceAccountAdmin",
}
#: Roles that can change an IAM policy: granted only with a modifiedGrantsByRole condition.
SETS_IAM_POLICIES = {
    "roles/resourcemanager.projectIamAdmin",
    "roles/run.admin",
    "roles/cloudtasks.queueAdmin",
    "roles/iam.serviceAccountAdmin",
    SECRETS_ROLE,
}
# As documented in https://cloud.google.com/iam/docs/setting-limits-on-granting-roles.
_CONDITION = re.compile(
    r"^api\.getAttribute\('iam\.googleapis\.com/modifiedGrantsByRole', \[\]\)"
    r"\.hasOnly\(\[(?P<roles>'[^']+'(?:, '[^']+')*)\]\)$"
)
_TEMPLATE_CONDITION = (
    "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', [])"
    """.hasOnly([${join(", ", [for role in each.value : "'${role}'"])}])"""
)


def _parse(directory: Path, *, recursive: bool) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    paths = directory.rglob("*.tf") if recursive else directory.glob("*.tf")
    for path in sorted(paths):
        if recursive and BOOTSTRAP in path.parents:
            continue
        with path.open() as handle:
            document = hcl2.load(handle, serialization_options=_OPTIONS)
        for key, value in document.items():
            merged.setdefault(key, []).extend(value)
    return merged


def _blocks(document: dict[str, list[Any]], kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for entry in document.get(kind, []):
        for type_name, named in entry.items():
            for name, body in named.items():
                yield type_name, name, body


def _locals(document: dict[str, list[Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for entry in document.get("locals", []):
        merged.update(entry)
    return merged


def _variable_default(document: dict[str, list[Any]], name: str) -> Any:
    for entry in document.get("variable", []):
        if name in entry:
            return entry[name].get("default")
    raise AssertionError(f"variable {name} is not declared")


@pytest.fixture(scope="module")
def infra() -> dict[str, list[Any]]:
    return _parse(INFRA, recursive=True)


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, list[Any]]:
    return _parse(BOOTSTRAP, recursive=False)


def _infra_variable_default(name: str) -> Any:
    return _variable_default(_parse(INFRA, recursive=False), name)


def _custom_roles(bootstrap: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: body
        for type_name, name, body in _blocks(bootstrap, "resource")
        if type_name == "google_project_iam_custom_role"
    }


def _condition_roles(expression: str) -> set[str]:
    match = _CONDITION.match(expression)
    assert match, f"not the documented modifiedGrantsByRole condition: {expression}"
    return {role.strip("'") for role in match["roles"].split(", ")}


def _infra_project_roles_in_bootstrap(bootstrap: dict[str, list[Any]]) -> set[str]:
    local = _locals(bootstrap)
    assert local["infra_project_roles"] == (
        "${distinct(concat(local.infra_fixed_project_roles, var.build_service_account_roles))}"
    )
    return set(local["infra_fixed_project_roles"]) | set(
        _variable_default(bootstrap, "build_service_account_roles")
    )


def deployer_grants(bootstrap: dict[str, list[Any]]) -> dict[str, set[str] | None]:
    """Deployer project role -> the roles its condition lets it grant (None: no condition)."""
    local = _locals(bootstrap)
    custom = {name: f"custom:{body['role_id']}" for name, body in _custom_roles(bootstrap).items()}
    grants: dict[str, set[str] | None] = {}
    for type_name, name, body in _blocks(bootstrap, "resource"):
        if type_name != "google_project_iam_member" or body["member"] != DEPLOYER:
            continue
        conditions = body.get("condition", [])
        if body.get("for_each") == "${local.deployer_roles}":
            assert body["role"] == "${each.key}" and not conditions
            grants.update(dict.fromkeys(local["deployer_roles"]))
        elif body.get("for_each") == "${local.deployer_granting_roles}":
            assert body["role"] == "${each.key}"
            assert [c["expression"] for c in conditions] == [_TEMPLATE_CONDITION]
            for role, allowed in local["deployer_granting_roles"].items():
                if allowed == "${local.infra_project_roles}":
                    grants[role] = _infra_project_roles_in_bootstrap(bootstrap)
                else:
                    assert isinstance(allowed, list), (role, allowed)
                    grants[role] = set(allowed)
        elif match := re.fullmatch(
            r"\$\{google_project_iam_custom_role\.(\w+)\.name\}", body["role"]
        ):
            role = custom[match[1]]
            grants[role] = _condition_roles(conditions[0]["expression"]) if conditions else None
        elif body["role"] == "roles/storage.objectUser":
            (condition,) = conditions
            sources = "${local.sources_bucket}"
            assert condition["expression"] == (
                f"resource.name == 'projects/_/buckets/{sources}' || "
                f"resource.name.startsWith('projects/_/buckets/{sources}/objects/')"
            )
            grants[SOURCES_OBJECTS] = None
        else:
            raise AssertionError(f"google_project_iam_member.{name}: a grant this test cannot read")
    return grants


def infra_resource_types(infra: dict[str, list[Any]]) -> set[str]:
    return {t for t, _, _ in _blocks(infra, "resource")} | {t for t, _, _ in _blocks(infra, "data")}


def infra_project_roles(infra: dict[str, list[Any]]) -> set[str]:
    """Every role infra/ grants with google_project_iam_member (for_each over a variable: its
    default)."""
    roles: set[str] = set()
    for type_name, name, body in _blocks(infra, "resource"):
        if type_name != "google_project_iam_member":
            continue
        role = body["role"]
        if role.startswith("roles/"):
            roles.add(role)
        elif role in ("${each.key}", "${each.value}") and (
            match := re.fullmatch(r"\$\{toset\(var\.(\w+)\)\}", body.get("for_each", ""))
        ):
            roles |= set(_infra_variable_default(match[1]))
        else:
            raise AssertionError(f"google_project_iam_member.{name}: role {role} not readable")
    return roles


def test_every_resource_type_infra_uses_is_covered_by_a_role_the_deployer_has(infra, bootstrap):
    granted = set(deployer_grants(bootstrap))
    for type_name in sorted(infra_resource_types(infra)):
        assert type_name in TYPE_ROLES, (
            f"infra/ uses {type_name}: add it to TYPE_ROLES with the role that lets the deployer "
            "manage it, and grant that role in infra/bootstrap/deployer.tf"
        )
        missing = TYPE_ROLES[type_name] - granted
        assert not missing, f"{type_name} needs {missing}, which the bootstrap does not grant"


def test_every_role_the_deployer_has_is_needed(infra, bootstrap):
    needed = set(PIPELINE_ROLES)
    for type_name in infra_resource_types(infra):
        needed |= TYPE_ROLES.get(type_name, set())
    unneeded = set(deployer_grants(bootstrap)) - needed
    assert not unneeded, f"the bootstrap grants the deployer roles nothing needs: {unneeded}"


def test_the_project_condition_lists_exactly_the_project_roles_infra_grants(infra, bootstrap):
    grants = deployer_grants(bootstrap)
    allowed, granted = grants["roles/resourcemanager.projectIamAdmin"], infra_project_roles(infra)
    assert allowed == granted, (
        f"infra/ grants project roles {sorted(granted)}; the deployer's condition allows "
        f"{sorted(allowed or ())}: update infra/bootstrap/deployer.tf (infra_fixed_project_roles)"
    )
    # The same build account roles on both sides.
    assert _variable_default(bootstrap, "build_service_account_roles") == (
        _infra_variable_default("build_service_account_roles")
    )


def test_every_role_that_can_change_iam_policies_is_limited_by_a_condition(bootstrap):
    grants = deployer_grants(bootstrap)
    for role in SETS_IAM_POLICIES & set(grants):
        allowed = grants[role]
        assert allowed, f"{role} is granted without a modifiedGrantsByRole condition"
        assert not allowed & {"roles/owner", "roles/editor"}
        assert "roles/resourcemanager.projectIamAdmin" not in allowed
    forbidden = {"roles/owner", "roles/editor", "roles/secretmanager.admin", "roles/storage.admin"}
    assert not forbidden & set(grants)


def test_each_resource_level_grant_infra_makes_is_allowed_by_its_condition(infra, bootstrap):
    grants = deployer_grants(bootstrap)
    seen = set()
    for type_name, name, body in _blocks(infra, "resource"):
        if type_name not in IAM_RESOURCE_GRANTER:
            continue
        granter = IAM_RESOURCE_GRANTER[type_name]
        allowed = grants[granter]
        assert allowed is not None
        assert body["role"] in allowed, (
            f"{type_name}.{name} grants {body['role']}, which the deployer's {granter} "
            f"may not grant (its condition allows {sorted(allowed)})"
        )
        seen.add(type_name)
    assert seen, "infra/ makes no resource-level grant: is the parse broken?"


def test_the_deployer_cannot_read_secret_values(bootstrap):
    (secrets,) = [
        body
        for body in _custom_roles(bootstrap).values()
        if body["role_id"] == "atendeDeployerSecrets"
    ]
    permissions = set(secrets["permissions"])
    assert not {p for p in permissions if p.startswith("secretmanager.versions.")}
    assert {
        "secretmanager.secrets.create",
        "secretmanager.secrets.delete",
        "secretmanager.secrets.get",
        "secretmanager.secrets.update",
        "secretmanager.secrets.getIamPolicy",
        "secretmanager.secrets.setIamPolicy",
    } <= permissions
    assert deployer_grants(bootstrap)[SECRETS_ROLE] == {"roles/secretmanager.secretAccessor"}
    (buckets,) = [
        body
        for body in _custom_roles(bootstrap).values()
        if body["role_id"] == "atendeDeployerBuckets"
    ]
    assert all(p.startswith("storage.buckets.") for p in buckets["permissions"])
    assert not {"storage.buckets.setIamPolicy", "storage.buckets.getIamPolicy"} & set(
        buckets["permissions"]
    )


def test_the_sources_bucket_is_the_one_infra_creates(infra, bootstrap):
    (sources,) = [
        body for t, name, body in _blocks(infra, "resource")
        if t == "google_storage_bucket" and name == "sources"
    ]  # fmt: skip
    assert _locals(bootstrap)["sources_bucket"] == sources["name"]


def _bucket_grants(bootstrap: dict[str, list[Any]], member: str) -> dict[str, str]:
    return {
        body["bucket"]: body["role"]
        for type_name, _, body in _blocks(bootstrap, "resource")
        if type_name == "google_storage_bucket_iam_member" and body["member"] == member
    }


def test_the_deployer_writes_the_state_and_only_reads_the_bundles(bootstrap):
    assert _bucket_grants(bootstrap, DEPLOYER) == {
        "${google_storage_bucket.state.name}": "roles/storage.objectUser",
        "${google_storage_bucket.bundles.name}": "roles/storage.objectViewer",
    }


def test_the_ci_account_may_log_and_create_bundles_and_nothing_else(bootstrap):
    project_roles = {
        body["role"]
        for type_name, _, body in _blocks(bootstrap, "resource")
        if type_name == "google_project_iam_member" and body["member"] == CI
    }
    assert project_roles == {"roles/logging.logWriter"}
    # objectCreator: create only; overwriting an object also needs storage.objects.delete.
    assert _bucket_grants(bootstrap, CI) == {
        "${google_storage_bucket.bundles.name}": "roles/storage.objectCreator"
    }
    for _, _, body in _blocks(bootstrap, "resource"):
        assert (
            "google_service_account.ci" not in str(body.get("member", "")) or body["member"] == CI
        )


def test_the_approvers_the_operator_names_may_approve_builds(bootstrap):
    (approver,) = [
        body for t, name, body in _blocks(bootstrap, "resource")
        if t == "google_project_iam_member" and name == "approver"
    ]  # fmt: skip
    assert approver["role"] == "roles/cloudbuild.builds.approver"
    assert approver["for_each"] == "${toset(var.approvers)}"
    assert approver["member"] == "${each.key}"
