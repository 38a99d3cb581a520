"""A tenant's configuration is validated when it is loaded: a mistake is refused with a
message that says what to fix, never discovered mid-conversation."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from pydantic import ValidationError

from atende.tenants.hours import BusinessHours
from atende.tenants.tenant_config import DEFAULT_CONFIG, TenantConfig


def test_an_empty_document_is_the_default_flow() -> None:
    loaded = TenantConfig.model_validate({})
    assert loaded == DEFAULT_CONFIG
    assert loaded.business_hours is None
    assert loaded.ai.enabled is False
    assert "atendente" in loaded.handoff_keywords
    assert "stop" in loaded.opt_out_keywords
    assert loaded.default_queue == "default"


def test_the_defaults_survive_a_round_trip_through_the_stored_form() -> None:
    stored = DEFAULT_CONFIG.model_dump(mode="json")
    assert TenantConfig.model_validate(stored) == DEFAULT_CONFIG


def test_a_full_configuration_loads() -> None:
    loaded = TenantConfig.model_validate(
        {
            "messages": {"greeting": "Oi! Aqui é a Loja."},
            "business_hours": {
                "timezone": "America/Manaus",
                "weekly": {"mon": [{"start": "08:00", "end": "24:00"}]},
                "holidays": ["2026-12-25"],
                "queue_handoff_off_hours": False,
            },
            "faq": [{"keywords": ["horário"], "answer": "Das 8h à meia-noite.", "queue": "vendas"}],
            "required_fields": [
                {"name": "cpf", "prompt": "Qual é o seu CPF?", "pattern": r"\d{11}"},
                {"name": "nome", "prompt": "Qual é o seu nome?"},
            ],
            "routing": [{"keywords": ["boleto"], "queue": "financeiro"}],
            "prohibited_patterns": [r"reembolso\s+garantido"],
            "ai": {"enabled": True, "min_confidence": 0.7},
        }
    )
    assert loaded.messages.greeting == "Oi! Aqui é a Loja."
    # Texts the tenant did not override keep their defaults.
    assert loaded.messages.goodbye == DEFAULT_CONFIG.messages.goodbye
    assert loaded.business_hours is not None
    assert loaded.business_hours.weekly["mon"][0].end == time.max
    assert [field.name for field in loaded.required_fields] == ["cpf", "nome"]


def _with(path: str, value: Any) -> dict[str, Any]:
    """A valid document with one value set at a dotted path."""
    document: dict[str, Any] = {}
    node = document
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return document


HOURS = {"timezone": "America/Sao_Paulo"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(
            {"prohibited_patterns": ["garantido", "reembolso (total"]},
            "pattern 'reembolso (total' does not compile",
            id="bad-prohibited-pattern",
        ),
        pytest.param(
            {"required_fields": [{"name": "cpf", "prompt": "CPF?", "pattern": "[0-9"}]},
            "pattern '[0-9' does not compile",
            id="bad-field-pattern",
        ),
        pytest.param(
            {"business_hours": {"timezone": "America/Sao_Paolo"}},
            "unknown time zone 'America/Sao_Paolo'",
            id="unknown-time-zone",
        ),
        pytest.param(
            {"business_hours": {"timezone": "../../etc/passwd"}},
            "unknown time zone '../../etc/passwd'",
            id="time-zone-path",
        ),
        pytest.param(
            {"business_hours": {**HOURS, "weekly": {"mon": [{"start": "18:00", "end": "09:00"}]}}},
            "interval ends (09:00:00) before it starts (18:00:00)",
            id="interval-ends-before-it-starts",
        ),
        pytest.param(
            {"business_hours": {**HOURS, "weekly": {"tue": [{"start": "09:00", "end": "09:00"}]}}},
            "interval ends (09:00:00) before it starts (09:00:00)",
            id="empty-interval",
        ),
        pytest.param(
            {
                "required_fields": [
                    {"name": "cpf", "prompt": "Qual é o seu CPF?"},
                    {"name": "cpf", "prompt": "CPF de novo?"},
                ]
            },
            "required field names must be unique",
            id="duplicate-field-names",
        ),
        pytest.param({"greting": "Oi"}, "greting", id="unknown-top-level-key"),
        pytest.param(_with("messages.greting", "Oi"), "messages.greting", id="unknown-message"),
        pytest.param(
            {"business_hours": {**HOURS, "weekly": {"monday": []}}},
            "Input should be 'mon', 'tue'",
            id="unknown-weekday",
        ),
        pytest.param(_with("ai.temperature", 0.2), "ai.temperature", id="unknown-ai-key"),
        pytest.param(_with("abuse.flood_limt", 5), "abuse.flood_limt", id="unknown-abuse-key"),
    ],
)
def test_a_mistake_in_the_configuration_is_refused_with_a_clear_message(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        TenantConfig.model_validate(document)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "key",
    ["greting", "messages.greting", "ai.temperature", "abuse.flood_limt", "business_hours.tz"],
)
def test_an_unknown_key_is_refused_as_extra_not_silently_dropped(key: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TenantConfig.model_validate(_with(key, "x"))
    [error] = raised.value.errors()
    assert error["type"] == "extra_forbidden"
    assert ".".join(str(part) for part in error["loc"]) == key


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"default_queue": "fila com espaço"}, "default_queue"),
        ({"routing": [{"keywords": [], "queue": "x"}]}, "routing.0.keywords"),
        ({"faq": [{"keywords": ["  "], "answer": "a"}]}, "faq.0.keywords.0"),
        ({"abuse": {"flood_limit": 0}}, "abuse.flood_limit"),
        ({"ai": {"min_confidence": 1.5}}, "ai.min_confidence"),
        ({"messages": {"greeting": ""}}, "messages.greeting"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_field(
    document: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        TenantConfig.model_validate(document)
    locations = {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()}
    assert field in locations


def test_a_loaded_configuration_cannot_be_changed_in_place() -> None:
    with pytest.raises(ValidationError):
        DEFAULT_CONFIG.default_queue = "outra"  # type: ignore[misc]


def test_business_hours_default_to_sao_paulo_and_queue_off_hours_requests() -> None:
    hours = BusinessHours()
    assert hours.timezone == "America/Sao_Paulo"
    assert hours.queue_handoff_off_hours is True
