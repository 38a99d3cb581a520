"""The settings an operator chooses (infra/envs/<env>.tfvars), checked by the real Terraform.

infra/variables.tf refuses, at plan time, example values that would fail or mislead in a real
project (placeholder notification channels, example account ids, an unchosen
firestore_location outside dev, prod without alerts…). That file references nothing but
variables and the built-in terraform_data, so `terraform init` needs no provider: these tests
copy it alone into a temporary root, forbid every provider download in the CLI configuration,
and run `terraform init` and `terraform plan` on it with each environment file, offline, as the
pipeline's plan step would (`-var-file=envs/<env>.tfvars -var=project_id=…`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from atende.packaging import REPO_ROOT

INFRA = REPO_ROOT / "infra"
ENVS = INFRA / "envs"
PROJECT = "loja-atende-prod"
CHANNEL = f"projects/{PROJECT}/notificationChannels/14872695532204158731"

#: A production configuration as an operator would fill it in: every channel kind with ids of
#: the real shape, a channel of this project, a chosen Firestore location.
REAL_PROD: dict[str, str] = {
    "environment": '"prod"',
    "firestore_location": '"southamerica-east1"',
    "alert_notification_channels": f'["{CHANNEL}"]',
    "channel_accounts": "",  # from REAL_ACCOUNTS, below
    "instagram_page_ids": '{ "17841452718826419" = "104223948575612" }',
    "apple_calendar_username": '"agenda@loja.com.br"',
    "agent_invoker_members": '["serviceAccount:crm@loja-crm.iam.gserviceaccount.com"]',
    "ai_base_url": '"https://llm.loja.com.br/v1"',
}

#: channel -> (account, tenant) of REAL_PROD.
REAL_ACCOUNTS: dict[str, tuple[str, str]] = {
    "whatsapp": ("109284756301928", "loja"),
    "messenger": ("231904857362019", "loja"),
    "instagram": ("17841452718826419", "loja"),
    "discord": ("1187346290357231616", "loja-suporte"),
    "linkedin": ("urn:li:organization:80412377", "loja"),
    "google_calendar": ("c_5f1e2a9b7d3c@group.calendar.google.com", "loja"),
    "apple_calendar": ("https://p42-caldav.icloud.com/16384729/calendars/home/", "loja"),
}


def _accounts(**changes: tuple[str, str]) -> str:
    """channel_accounts in HCL: REAL_ACCOUNTS with some channels' entry changed."""
    entries = {**REAL_ACCOUNTS, **changes}
    lines = [
        f'  {channel} = {{ "{account}" = "{tenant}" }}'
        for channel, (account, tenant) in entries.items()
    ]
    return "{\n" + "\n".join(lines) + "\n}"


REAL_PROD["channel_accounts"] = _accounts()

#: What infra/envs/prod.tfvars shipped before it became a template (plus the docs' other
#: examples): every one of these would have been deployed.
FORMER_PROD_EXAMPLE = """
environment = "prod"
channel_accounts = {
  whatsapp        = { "123456789012345" = "acme" }
  instagram       = { "17841400000000000" = "acme" }
  discord         = { "1234567890123456789" = "acme" }
  google_calendar = { "agenda@acme.example" = "acme" }
}
instagram_page_ids = { "17841400000000000" = "100000000000000" }
firestore_location = "nam5"
alert_notification_channels = ["projects/acme-atende-prod/notificationChannels/1234567890123456789"]
agent_invoker_members = ["serviceAccount:crm@acme-crm.iam.gserviceaccount.com"]
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


@dataclass(frozen=True)
class Plan:
    returncode: int
    output: str  # stdout and stderr, whitespace collapsed (Terraform wraps its messages)

    @property
    def errors(self) -> int:
        return self.output.count("Error: ")

    def refused(self, *messages: str) -> bool:
        return self.returncode != 0 and all(message in self.output for message in messages)


class Terraform:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def run(self, *args: str) -> Plan:
        done = subprocess.run(
            ["terraform", f"-chdir={self.root}", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        text = "\n".join(
            line for line in (done.stdout + done.stderr).splitlines() if "│" not in line
        )
        return Plan(done.returncode, " ".join(text.split()))

    def plan(
        self, tfvars: Path | str, *, project: str = PROJECT, target: str | None = None
    ) -> Plan:
        if isinstance(tfvars, str):
            path = (
                self.root.parent / f"case-{hashlib.sha256(tfvars.encode()).hexdigest()[:16]}.tfvars"
            )
            path.write_text(textwrap.dedent(tfvars))
            tfvars = path
        args = ["plan", "-input=false", "-no-color", "-lock=false"]
        args += [f"-var-file={tfvars}", f"-var=project_id={project}", "-var=region=us-central1"]
        if target:
            args.append(f"-target={target}")
        return self.run(*args)


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    if shutil.which("terraform") is None:
        if _in_ci():
            pytest.fail("terraform is not installed: the settings checks of infra/ cannot run")
        pytest.skip("terraform is not installed (make test needs it: README)")
    base = tmp_path_factory.mktemp("settings")
    root = base / "infra"
    root.mkdir()
    shutil.copy(INFRA / "variables.tf", root / "variables.tf")
    # Providers may come only from an empty mirror: a plan that needed one would fail here.
    mirror = base / "no-providers"
    mirror.mkdir()
    config = base / "terraformrc"
    config.write_text(
        "disable_checkpoint = true\n"
        f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["*/*/*"]\n  }\n}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "CHECKPOINT_"))}
    env |= {
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_PLUGIN_CACHE_DIR": str(base / "plugin-cache"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    (base / "plugin-cache").mkdir()
    tf = Terraform(root, env)
    init = tf.run("init", "-backend=false", "-input=false", "-no-color")
    assert init.returncode == 0, f"terraform init failed offline: {init.output}"
    return tf


def _tfvars(values: dict[str, str], **changes: str | None) -> str:
    merged = {**values, **changes}
    return "\n".join(f"{name} = {value}" for name, value in merged.items() if value is not None)


# --- The environment files as shipped --------------------------------------------------------


def test_every_environment_the_docs_name_has_a_file() -> None:
    assert {path.stem for path in ENVS.glob("*.tfvars")} == {"dev", "staging", "prod"}


def test_the_dev_example_plans_as_it_is(terraform: Terraform) -> None:
    plan = terraform.plan(ENVS / "dev.tfvars", project="loja-atende-dev")
    assert plan.returncode == 0, plan.output
    assert "terraform_data.settings_checks will be created" in plan.output


def test_the_prod_template_is_refused_until_its_choices_are_made(terraform: Terraform) -> None:
    plan = terraform.plan(ENVS / "prod.tfvars")
    assert plan.refused(
        "prod must choose firestore_location explicitly",
        "`gcloud firestore locations list`",
        "prod needs at least one alert_notification_channels entry",
        f"gcloud beta monitoring channels create --project={PROJECT}",
    ), plan.output
    assert plan.errors == 2, plan.output


def test_the_staging_template_is_refused_until_its_firestore_location_is_chosen(
    terraform: Terraform,
) -> None:
    plan = terraform.plan(ENVS / "staging.tfvars", project="loja-atende-staging")
    assert plan.refused("staging must choose firestore_location explicitly"), plan.output
    assert plan.errors == 1, plan.output


def test_the_templates_plan_once_filled_in(terraform: Terraform, tmp_path: Path) -> None:
    prod = tmp_path / "prod.tfvars"
    prod.write_text(
        (ENVS / "prod.tfvars").read_text()
        + '\nfirestore_location = "nam5"\n'
        + f'alert_notification_channels = ["projects/{PROJECT}/notificationChannels/5839201746"]\n'
    )
    plan = terraform.plan(prod)
    assert plan.returncode == 0, plan.output
    # Staging may leave the alerts unrouted; only prod requires a channel.
    staging = tmp_path / "staging.tfvars"
    staging.write_text((ENVS / "staging.tfvars").read_text() + '\nfirestore_location = "nam5"\n')
    plan = terraform.plan(staging, project="loja-atende-staging")
    assert plan.returncode == 0, plan.output


def test_a_targeted_apply_of_the_secrets_checks_the_settings_first(terraform: Terraform) -> None:
    """docs/deploy.md step 5 adds -target=terraform_data.settings_checks to its targeted apply."""
    plan = terraform.plan(ENVS / "prod.tfvars", target="terraform_data.settings_checks")
    assert plan.refused("prod must choose firestore_location explicitly"), plan.output


# --- What a real project would have deployed by mistake -----------------------------------------


def test_a_real_production_configuration_plans(terraform: Terraform) -> None:
    plan = terraform.plan(_tfvars(REAL_PROD))
    assert plan.returncode == 0, plan.output


def test_the_former_prod_example_values_are_refused_each_with_what_to_put(
    terraform: Terraform,
) -> None:
    plan = terraform.plan(FORMER_PROD_EXAMPLE)
    assert plan.refused(
        # The notification channel of the example project.
        f"alert_notification_channels must be notification channels of this project, "
        f"projects/{PROJECT}/notificationChannels/<number>; not: "
        "projects/acme-atende-prod/notificationChannels/1234567890123456789.",
        "gcloud beta monitoring channels list",
        # Every example account id, and the example linked page.
        "discord: 1234567890123456789",
        "instagram: 17841400000000000",
        "whatsapp: 123456789012345",
        "instagram_page_ids: 17841400000000000 -> 100000000000000",
        "the phone number id from the Meta app's WhatsApp > API Setup",
        # The example tenant, the reserved domain and the example CRM project.
        "channel_accounts maps accounts to example tenant ids (acme)",
        "channel_accounts.google_calendar: agenda@acme.example",
        "agent_invoker_members: serviceAccount:crm@acme-crm.iam.gserviceaccount.com",
    ), plan.output
    assert plan.errors == 4, plan.output


@pytest.mark.parametrize(
    ("case", "changes", "project", "message"),
    [
        (
            "an example project",
            {"alert_notification_channels": '["projects/acme-atende-prod/notificationChannels/4"]'},
            "acme-atende-prod",
            'project_id "acme-atende-prod" is an example',
        ),
        (
            "a channel of another project",
            {"alert_notification_channels": '["projects/other-prod/notificationChannels/42"]'},
            PROJECT,
            "not: projects/other-prod/notificationChannels/42",
        ),
        (
            "the example channel number in this project",
            {
                "alert_notification_channels": f'["projects/{PROJECT}/notificationChannels/'
                '1234567890123456789"]'
            },
            PROJECT,
            "must be notification channels of this project",
        ),
        (
            "no alert channel",
            {"alert_notification_channels": "[]"},
            PROJECT,
            "prod needs at least one",
        ),
        ("no firestore location", {"firestore_location": None}, PROJECT, "prod must choose"),
        (
            "an unprotected database",
            {"firestore_delete_protection": "false"},
            PROJECT,
            "firestore_delete_protection = false is for tearing down a dev project",
        ),
        (
            "the local stack's WhatsApp number",
            {"channel_accounts": _accounts(whatsapp=("106540352242922", "loja"))},
            PROJECT,
            "not accounts of yours: whatsapp: 106540352242922",
        ),
        (
            "a made-up id",
            {"channel_accounts": _accounts(messenger=("100200000000", "loja"))},
            PROJECT,
            "not accounts of yours: messenger: 100200000000",
        ),
        (
            "a template placeholder",
            {"channel_accounts": _accounts(whatsapp=("<phone number id>", "loja"))},
            PROJECT,
            "Replace the placeholders left in infra/envs/prod.tfvars by real values: "
            "channel_accounts.whatsapp: <phone number id> = loja",
        ),
        (
            "an example tenant",
            {"channel_accounts": _accounts(whatsapp=("109284756301928", "acme"))},
            PROJECT,
            "example tenant ids (acme)",
        ),
        (
            "a reserved domain",
            {"apple_calendar_username": '"agenda@loja.example"'},
            PROJECT,
            "apple_calendar_username: agenda@loja.example",
        ),
        (
            "an example endpoint",
            {"ai_base_url": '"https://llm.example.com/v1"'},
            PROJECT,
            "ai_base_url: https://llm.example.com/v1",
        ),
        (
            "Apple calendars without an account",
            {"apple_calendar_username": None},
            PROJECT,
            "apple_calendar_username is empty",
        ),
        (
            "an Apple calendar outside https",
            {
                "channel_accounts": _accounts(
                    apple_calendar=("http://caldav.loja.com.br/c/", "loja")
                )
            },
            PROJECT,
            "not: http://caldav.loja.com.br/c/",
        ),
        (
            "a page of an unlisted Instagram account",
            {"instagram_page_ids": '{ "17841452718826400" = "104223948575612" }'},
            PROJECT,
            "channel_accounts.instagram does not list: 17841452718826400",
        ),
    ],
)
def test_one_mistake_is_refused_with_its_own_message(
    terraform: Terraform, case: str, changes: dict[str, str | None], project: str, message: str
) -> None:
    plan = terraform.plan(_tfvars(REAL_PROD, **changes), project=project)
    assert plan.refused(message), f"{case}: {plan.output}"
    assert plan.errors == 1, f"{case}: {plan.output}"


def test_dev_may_keep_the_examples_staging_may_not(terraform: Terraform) -> None:
    examples = {
        "channel_accounts": '{ whatsapp = { "106540352242922" = "acme" } }',
        "firestore_delete_protection": "false",
        "firestore_location": None,
        "alert_notification_channels": "[]",
        "apple_calendar_username": None,
        "instagram_page_ids": None,
    }
    dev = terraform.plan(_tfvars(REAL_PROD, environment='"dev"', **examples))
    assert dev.returncode == 0, dev.output
    staging = terraform.plan(_tfvars(REAL_PROD, environment='"staging"', **examples))
    assert staging.refused(
        "staging must choose firestore_location",
        "firestore_delete_protection = false",
        "whatsapp: 106540352242922",
        "example tenant ids (acme)",
    ), staging.output
    assert staging.errors == 4, staging.output


def test_the_settings_maps_are_compared_as_strings(terraform: Terraform) -> None:
    """A list never equals a tuple literal in Terraform: `sort(keys(x)) == ["a", "b"]` refused
    every configuration, the defaults included. Explicit settings of the right kinds plan;
    a missing kind is refused."""
    settings = (ENVS / "staging.tfvars").read_text().split("function_settings = ", 1)[1]
    plan = terraform.plan(_tfvars(REAL_PROD, function_settings=settings))
    assert plan.returncode == 0, plan.output
    missing = settings.replace("agent ", "# agent ", 1)
    plan = terraform.plan(_tfvars(REAL_PROD, function_settings=missing))
    assert plan.refused("function_settings needs exactly the kinds agent, job, webhook and worker")
