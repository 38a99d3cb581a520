"""infra/ against the code: every function deployed, with its kind, settings, queues, secrets
and invokers as the code expects.

Terraform cannot plan or validate here (no provider can be downloaded), so this parses every
infra/**/*.tf with python-hcl2 and checks the facts the HCL states. infra/functions.tf keeps
them in explicit maps (`local.channels`, `workers`, `jobs`, `agents`: one entry per function,
with its secrets and its own environment variables); the module calls and
modules/function/ turn each entry into one function with its own service account.
Expressions are not evaluated: where a value is an expression, the test reads the names it
mentions. The resources all functions share (queues' retries, secret ids, Firestore, alerts)
are checked in test_infra_resources.py.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import hcl2
import pytest
from infra_wiring_support import HCL_OPTIONS, INFRA, Terraform, strip_interpolation
from pydantic_settings import BaseSettings

from atende.ai.settings import AiSettings
from atende.channels.registry import channel_names
from atende.config import Settings
from atende.deployment import FunctionSpec
from atende.packaging import REPO_ROOT

#: The module call that deploys each kind of function, and the local map it iterates.
MODULE_OF_KIND = {"webhook": "webhook", "worker": "worker", "job": "job", "agent": "agent"}

#: What every function needs in the cloud (config.Settings), with the value where only one
#: is right (None: any value; its source is checked separately).
COMMON_ENV: dict[str, str | None] = {
    # The entry points are functions_framework.aio (ASGI); `functions-framework --asgi`.
    "FUNCTION_USE_ASGI": "true",
    # Settings' defaults are the local dev project and region.
    "ATENDE_PROJECT": None,
    "ATENDE_LOCATION": None,
    "ATENDE_INBOUND_QUEUE": None,
    "ATENDE_OUTBOUND_QUEUE": None,
    # The default is the local dev server; enqueuers target it and workers check audiences.
    "ATENDE_FUNCTIONS_BASE_URL": None,
    # Unset by default: enqueuers could not sign tasks, workers would accept no caller.
    "ATENDE_TASKS_SERVICE_ACCOUNT": None,
    "ATENDE_SECRETS_BACKEND": "secret-manager",
    "ATENDE_TASK_AUTH": "oidc",
}
#: Only on functions nobody but the invoker service account can reach.
PRIVATE_ENV = {"ATENDE_TASK_OIDC_PLATFORM_VERIFIED": "true"}
#: Per function, beyond the channel's account map (checked for webhooks and jobs).
FUNCTION_ENV = {
    "process_inbound": {"ATENDE_AI_BASE_URL", "ATENDE_AI_MODEL"},
    "send_outbound": {"ATENDE_INSTAGRAM_PAGE_IDS", "ATENDE_LINKEDIN_API_VERSION"},
    "youtube_renew": {"ATENDE_YOUTUBE_CALLBACK_URL"},
    "google_calendar_watch": {"ATENDE_GOOGLE_CALENDAR_WEBHOOK_URL"},
    "apple_calendar_poll": {"ATENDE_APPLE_CALENDAR_USERNAME"},
}
#: Set by infra/ but read by no settings class, on purpose.
NOT_SETTINGS = {
    "FUNCTION_USE_ASGI",  # read by functions-framework
    "ATENDE_SECRETS_GENERATION",  # changing it rolls instances so they re-read secrets
}
#: The settings field that maps a provider account to a tenant, by its name in the classes.
ACCOUNT_FIELDS = ("tenants", "topics", "calendars")
_ENV_NAME = re.compile(r"\b(?:ATENDE_[A-Z0-9_]+|FUNCTION_USE_ASGI)\b")


@dataclass(frozen=True)
class Deployed:
    """One function as infra/ deploys it: its module call and its entry in the local map."""

    name: str
    kind: str
    call: str
    call_body: dict[str, Any]
    spec: dict[str, Any]


@pytest.fixture(scope="module")
def deployed(tf: Terraform) -> dict[str, Deployed]:
    found: dict[str, Deployed] = {}
    for call, body in tf.modules.items():
        assert body["source"] == "./modules/function", (
            f"module {call} does not use ./modules/function; every function must go through it"
        )
        iterated = re.fullmatch(r"\$\{local\.(\w+)\}", str(body.get("for_each")))
        assert iterated, f"module {call} must iterate an explicit local map (for_each = local.x)"
        name_template = body["name"]
        assert "${each.key}" in name_template, f"module {call}'s name must come from each.key"
        for key, spec in tf.locals[iterated.group(1)].items():
            name = name_template.replace("${each.key}", key)
            assert name not in found, (
                f"{name} is deployed twice (modules {found[name].call}, {call})"
            )
            found[name] = Deployed(name, body["kind"], call, body, spec)
    return found


def _env(tf: Terraform, function: Deployed) -> dict[str, str | None]:
    """The function's environment variable names, with their value where it is a literal
    map entry (None where the map is an expression: only the names are known)."""
    expression = strip_interpolation(function.call_body["environment"])
    merged = re.fullmatch(r"merge\((.*)\)", expression)
    assert merged, f"module {function.call}: environment must be merge(local..., each.value.env)"
    env: dict[str, str | None] = {}
    for part in (p.strip() for p in merged.group(1).split(",")):
        if part.startswith("local."):
            source = tf.locals[part.removeprefix("local.")]
        elif part == "each.value.env":
            source = function.spec["env"]
        else:
            pytest.fail(f"module {function.call}: environment merges {part!r}, not understood here")
        if isinstance(source, Mapping):
            env.update(source)
        else:
            env.update(dict.fromkeys(_ENV_NAME.findall(str(source))))
    return env


def _settings_classes() -> Iterator[type[BaseSettings]]:
    yield Settings
    yield AiSettings
    for channel in channel_names():
        module = importlib.import_module(f"atende.channels.{channel}.settings")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseSettings) and cls.__module__ == module.__name__:
                yield cls


def _env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    return {prefix + field.upper() for field in cls.model_fields}


def _account_setting(channel: str) -> str:
    """ATENDE_<CHANNEL>_TENANTS (or _TOPICS, _CALENDARS): the channel's account -> tenant map."""
    module = importlib.import_module(f"atende.channels.{channel}.settings")
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if issubclass(cls, BaseSettings) and cls.__module__ == module.__name__:
            prefix = str(cls.model_config["env_prefix"]).upper()
            for field in ACCOUNT_FIELDS:
                if field in cls.model_fields:
                    return prefix + field.upper()
    raise AssertionError(f"channel {channel}'s settings have no account map ({ACCOUNT_FIELDS})")


def _channel_of(function: str) -> str:
    for channel in sorted(channel_names(), key=len, reverse=True):
        if function.startswith(f"{channel}_"):
            return channel
    raise AssertionError(f"{function} belongs to no channel")


def test_every_terraform_file_parses() -> None:
    files = [p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts]
    assert files, "infra/ has no .tf files"
    for path in files:
        with path.open() as handle:
            try:
                hcl2.load(handle, serialization_options=HCL_OPTIONS)
            except Exception as error:  # any parse error fails, naming its file
                pytest.fail(f"{path.relative_to(REPO_ROOT)} does not parse as HCL: {error}")


def test_every_declared_function_is_deployed_with_its_kind_and_nothing_else(
    deployed: dict[str, Deployed], declared: dict[str, FunctionSpec]
) -> None:
    missing = sorted(set(declared) - set(deployed))
    extra = sorted(set(deployed) - set(declared))
    assert not missing, f"atende.deployment declares {missing}, but infra/ does not deploy them"
    assert not extra, f"infra/ deploys {extra}, which atende.deployment does not declare"
    for name, function in deployed.items():
        kind = declared[name].kind
        assert function.kind == kind, (
            f"infra/ deploys {name} as a {function.kind}, but atende.deployment says {kind}"
        )
        assert function.call == MODULE_OF_KIND[kind], (
            f"{name} is a {kind}: it belongs in module {MODULE_OF_KIND[kind]}, not {function.call}"
        )


def test_every_deployed_function_has_its_entry_point_and_its_bundle(
    tf: Terraform, deployed: dict[str, Deployed]
) -> None:
    for name in deployed:
        main = REPO_ROOT / "functions" / name / "main.py"
        assert main.is_file(), f"infra/ deploys {name}, but functions/{name}/main.py is missing"
        assert re.search(rf"^async def {name}\(", main.read_text(), re.MULTILINE), (
            f"functions/{name}/main.py defines no entry point named {name}"
        )
    function = tf.module_resources[("google_cloudfunctions2_function", "this")]
    build = function["build_config"][0]
    assert function["name"] == "${var.name}", "the function's name must be the module's name"
    assert build["entry_point"] == "${var.name}", "the entry point must be the function's name"
    assert build["runtime"] == "${var.runtime}", "the runtime must come from the module input"
    for call, body in tf.modules.items():
        assert body["runtime"] == "${var.function_runtime}", f"module {call}: runtime not shared"
    assert tf.default("function_runtime") == "python312", "the functions run on python312"
    # make package writes build/<function>/; the module zips exactly that folder.
    assert tf.locals["bundles_path"] == "${path.root}/${var.repo_root}/${var.bundle_dir}"
    assert (tf.default("repo_root"), tf.default("bundle_dir")) == ("..", "build"), (
        "from infra/, the bundles are ../build/<function>/ (make package)"
    )
    archive = tf.module_data[("archive_file", "bundle")]
    assert archive["source_dir"] == "${local.source_dir}"
    assert tf.module_locals["source_dir"] == "${var.bundles_path}/${var.name}"
    bundle = tf.module_resources[("google_storage_bucket_object", "bundle")]
    assert "output_sha256" in bundle["name"], (
        "the uploaded bundle must be named by the archive's hash, or changed code never redeploys"
    )
    assert build["source"][0]["storage_source"][0]["object"] == (
        "${google_storage_bucket_object.bundle.name}"
    )


def test_every_function_gets_the_settings_it_needs_in_the_cloud(
    tf: Terraform, deployed: dict[str, Deployed]
) -> None:
    for name, function in deployed.items():
        env = _env(tf, function)
        for variable, value in COMMON_ENV.items():
            assert variable in env, f"{name} does not get {variable}"
            if value is not None:
                assert env[variable] == value, f"{name}: {variable} must be {value!r}"
        needed = set(FUNCTION_ENV.get(name, ()))
        if function.kind in ("webhook", "job"):
            needed.add(_account_setting(_channel_of(name)))
        for variable in sorted(needed):
            assert variable in env, f"{name} does not get {variable}, which it reads"
        ai = sorted(v for v in env if v.startswith("ATENDE_AI_"))
        if name != "process_inbound":
            assert not ai, f"{name} gets {ai}; only process_inbound calls the AI"


def test_only_private_functions_trust_the_platform_verified_token(
    tf: Terraform, deployed: dict[str, Deployed]
) -> None:
    ((variable, value),) = PRIVATE_ENV.items()
    for name, function in deployed.items():
        env = _env(tf, function)
        if function.kind in ("worker", "job"):
            assert env.get(variable) == value, (
                f"{name} is private (Cloud Run checks the token's signature) and needs "
                f"{variable}={value}"
            )
        else:
            assert variable not in env, (
                f"{name} is reachable without IAM: {variable} would let it trust unsigned tokens"
            )


def test_every_environment_variable_is_a_setting_the_code_reads(
    tf: Terraform, deployed: dict[str, Deployed]
) -> None:
    known = set().union(*(_env_names(cls) for cls in _settings_classes())) | NOT_SETTINGS
    for name, function in deployed.items():
        unknown = sorted(set(_env(tf, function)) - known)
        assert not unknown, f"{name} sets {unknown}, which no settings class reads (a typo?)"


def test_queue_names_and_locations_match_the_settings(tf: Terraform) -> None:
    defaults = Settings.model_fields
    common = tf.locals["common_env"]
    for queue, variable in (
        ("inbound", "ATENDE_INBOUND_QUEUE"),
        ("outbound", "ATENDE_OUTBOUND_QUEUE"),
    ):
        resource = tf.resources[("google_cloud_tasks_queue", queue)]
        name_var = f"{queue}_queue_name"
        assert resource["name"] == f"${{var.{name_var}}}", (
            f"queue {queue} is not named by {name_var}"
        )
        assert common[variable] == f"${{var.{name_var}}}", (
            f"{variable} given to the functions is not the {queue} queue's name"
        )
        expected = defaults[f"{queue}_queue"].default
        assert tf.default(name_var) == expected, (
            f"the {queue} queue is called {tf.default(name_var)!r} in Terraform but "
            f"{expected!r} in Settings"
        )
        assert resource["location"] == "${var.region}" == common["ATENDE_LOCATION"], (
            f"queue {queue} must be in the region given to the functions as ATENDE_LOCATION"
        )
    assert common["ATENDE_PROJECT"] == "${var.project_id}"
    assert common["ATENDE_FUNCTIONS_BASE_URL"] == "${local.functions_base_url}"
    assert tf.locals["functions_base_url"] == (
        "https://${var.region}-${var.project_id}.cloudfunctions.net"
    ), "ATENDE_FUNCTIONS_BASE_URL must be the functions' own URL base (tasks target <base>/<name>)"


def test_every_secret_a_function_reads_is_bound_to_it_and_to_no_other(
    tf: Terraform, deployed: dict[str, Deployed], declared: dict[str, FunctionSpec]
) -> None:
    for name, function in deployed.items():
        if name not in declared:
            continue  # an undeclared function is reported by the deployment test
        listed = sorted(function.spec["secrets"])
        assert listed == sorted(declared[name].secrets), (
            f"{name} reads {sorted(declared[name].secrets)} (atende.deployment), but "
            f"infra/functions.tf lists {listed}"
        )
    # Each module call binds exactly its own entry's secrets...
    for call, body in tf.modules.items():
        assert strip_interpolation(body["secrets"]) == (
            "{for name in each.value.secrets : name => "
            "google_secret_manager_secret.secret[name].secret_id}"
        ), f"module {call} must pass each function its own secrets and nothing else"
    # ...to the function's own service account, the only grant of a secret in infra/.
    access = tf.module_resources[("google_secret_manager_secret_iam_member", "access")]
    assert access["for_each"] == "${var.secrets}"
    assert access["role"] == "roles/secretmanager.secretAccessor"
    assert access["member"] == "serviceAccount:${google_service_account.this.email}", (
        "secret access must go to the function's own service account"
    )
    service_config = tf.module_resources[("google_cloudfunctions2_function", "this")][
        "service_config"
    ][0]
    assert service_config["service_account_email"] == "${google_service_account.this.email}", (
        "each function must run as its own service account, or its secrets reach others"
    )
    assert ("google_service_account", "this") in tf.module_resources
    assert "secret_environment_variables" not in service_config, "secrets are read at run time"
    assert "secret_volumes" not in service_config, "secrets are read at run time"
    grants = [
        f"{kind}.{name}"
        for resources in (tf.resources, tf.module_resources)
        for (kind, name), body in resources.items()
        if kind.startswith("google_secret_manager_secret_iam") or "secretmanager" in str(body)
    ]
    assert grants == ["google_secret_manager_secret_iam_member.access"], (
        f"secret access is granted outside the function module: {grants}"
    )
    versions = [key for key in tf.resources if key[0] == "google_secret_manager_secret_version"]
    assert not versions, "secret values must never be in Terraform (or its state)"
    # The resulting readers of every secret are exactly the code's.
    readers: dict[str, set[str]] = defaultdict(set)
    expected: dict[str, set[str]] = defaultdict(set)
    for name, function in deployed.items():
        for secret in function.spec["secrets"]:
            readers[secret].add(name)
    for name, spec in declared.items():
        for secret in spec.secrets:
            expected[secret].add(name)
    for secret in sorted(set(readers) | set(expected)):
        assert readers[secret] == expected[secret], (
            f"{secret} is readable by {sorted(readers[secret])} in infra/, but only "
            f"{sorted(expected[secret])} read it (atende.deployment)"
        )


def test_every_function_may_enqueue_to_exactly_the_queues_its_code_uses(
    tf: Terraform, deployed: dict[str, Deployed], declared: dict[str, FunctionSpec]
) -> None:
    """Both ways: a missing grant fails in the cloud (PermissionDenied on CreateTask), an
    extra one is power the code does not need."""
    for name, function in deployed.items():
        listed = sorted(function.spec.get("enqueues", []))
        expected = sorted(declared[name].queues)
        assert listed == expected, (
            f"{name} enqueues to {expected} (atende.deployment), but infra/functions.tf "
            f"grants {listed}"
        )
    # Each module call grants exactly its own entry's queues...
    for call, body in tf.modules.items():
        assert strip_interpolation(body["enqueue_queues"]) == (
            "{for queue in each.value.enqueues : queue => local.queue_names[queue]}"
        ), f"module {call} must grant each function its own `enqueues` and nothing else"
    assert set(tf.locals["queue_names"]) == {"inbound", "outbound"}
    # ...to the function's own service account, the only Cloud Tasks grant in infra/.
    enqueuer = tf.module_resources[("google_cloud_tasks_queue_iam_member", "enqueuer")]
    assert enqueuer["for_each"] == "${var.enqueue_queues}"
    assert enqueuer["role"] == "roles/cloudtasks.enqueuer"
    assert enqueuer["member"] == "serviceAccount:${google_service_account.this.email}"
    grants = [
        f"{kind}.{name}"
        for resources in (tf.resources, tf.module_resources)
        for (kind, name), body in resources.items()
        if "cloudtasks" in str(body.get("role", ""))
        or kind.startswith("google_cloud_tasks_queue_iam")
    ]
    assert grants == ["google_cloud_tasks_queue_iam_member.enqueuer"], (
        f"queue access is granted outside the function module: {grants}"
    )
    # Acting as the invoker (to sign tasks) goes with enqueuing, and only with it.
    act_as = tf.module_resources[("google_service_account_iam_member", "act_as_tasks_invoker")]
    assert act_as["count"] == "${length(var.enqueue_queues) > 0 ? 1 : 0}"


def test_each_worker_holds_the_queue_grants_its_code_needs_and_no_more(
    declared: dict[str, FunctionSpec],
) -> None:
    """The first review's finding was a missing grant. The send tasks come from processing
    and the agent desk; send_outbound enqueues nothing (a reply waits for the one before it
    by reading it), so it holds no queue grant at all."""
    assert declared["process_inbound"].queues == {"inbound", "outbound"}
    assert declared["agent_reply"].queues == {"inbound", "outbound"}
    assert declared["send_outbound"].queues == frozenset()
    assert declared["youtube_renew"].queues == frozenset()


def test_webhooks_are_public_and_workers_and_jobs_are_not(
    tf: Terraform, deployed: dict[str, Deployed]
) -> None:
    invoker = {"tasks_invoker": "serviceAccount:${google_service_account.invoker.email}"}
    for name, function in deployed.items():
        body = function.call_body
        if function.kind == "webhook":
            assert body["public"] is True, f"{name} must be public: providers call it"
            assert body["invoker_members"] == {}, f"{name}: no other invokers needed"
        elif function.kind in ("worker", "job"):
            assert body["public"] is False, f"{name} is a {function.kind} and must not be public"
            assert body["invoker_members"] == invoker, (
                f"{name} must be invocable by the tasks/scheduler invoker service account only"
            )
        else:
            assert body["public"] == "${length(var.agent_invoker_members) == 0}", (
                f"{name} is public only when no CRM invoker members are given"
            )
    assert tf.default("agent_invoker_members") == []
    public = tf.module_resources[("google_cloud_run_service_iam_member", "public")]
    assert (public["count"], public["member"], public["role"]) == (
        "${var.public ? 1 : 0}",
        "allUsers",
        "roles/run.invoker",
    )
    private = tf.module_resources[("google_cloud_run_service_iam_member", "invoker")]
    assert (private["for_each"], private["member"]) == ("${var.invoker_members}", "${each.value}")
    invokers = [
        key
        for resources in (tf.resources, tf.module_resources)
        for key, body in resources.items()
        if "run.invoker" in str(body) or "allUsers" in str(body)
    ]
    assert sorted(invokers) == [
        ("google_cloud_run_service_iam_member", "invoker"),
        ("google_cloud_run_service_iam_member", "public"),
    ], f"functions are made invocable outside the module's two grants: {invokers}"
    # Tasks and scheduler tokens are of the account the functions accept.
    assert tf.locals["common_env"]["ATENDE_TASKS_SERVICE_ACCOUNT"] == (
        "${google_service_account.invoker.email}"
    )
