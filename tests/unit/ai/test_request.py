"""What the model gets to see of a conversation: redacted, bounded, newest turns first."""

from __future__ import annotations

import pytest

from atende.ai.contract import AiRequest, AiTurn
from atende.ai.request import Role, build_request
from atende.tenants.tenant_config import AiConfig, FaqEntry, RequiredField, TenantConfig

TENANT = TenantConfig(
    ai=AiConfig(enabled=True, prompt="Tom amigável. Dúvidas: gerente@loja.com.br"),
    faq=(FaqEntry(keywords=("horário", "abre"), answer="Abrimos das 9h às 18h."),),
    required_fields=(
        RequiredField(name="nome_completo", prompt="Qual é o seu nome completo?"),
        RequiredField(name="cpf", prompt="Qual é o seu CPF?"),
    ),
)


def build(
    history: list[tuple[Role, str]],
    *,
    budget: int = 4000,
    tenant: TenantConfig = TENANT,
    model: str | None = "gpt-4o-mini",
) -> AiRequest:
    return build_request(
        tenant_id="loja",
        channel="whatsapp",
        state="triage",
        allowed_next_states=("waiting_user", "handoff"),
        history=history,
        tenant=tenant,
        text_limit=4096,
        budget_chars=budget,
        model=model,
    )


def test_phone_email_and_document_in_the_history_never_reach_the_request() -> None:
    request = build(
        [
            ("user", "Oi, meu celular é (11) 98765-4321 e o e-mail Ana.Souza@example.com"),
            ("assistant", "Obrigada! Qual é o seu CPF?"),
            ("user", "123.456.789-09, e o telefone fixo +55 11 3333-4444"),
        ]
    )
    sent = request.model_dump_json()
    for secret in ("98765", "4321", "Ana.Souza", "example.com", "123.456.789", "3333"):
        assert secret not in sent
    assert request.history[0].text == "Oi, meu celular é [phone] e o e-mail [email]"
    assert request.history[2].text == "[cpf], e o telefone fixo [phone]"
    assert [turn.role for turn in request.history] == ["user", "assistant", "user"]


def test_the_tenant_context_has_the_prompt_faq_and_field_names_redacted() -> None:
    context = build([("user", "Oi")]).tenant_context
    assert "Tom amigável" in context
    assert "gerente@loja.com.br" not in context and "[email]" in context
    assert "horário, abre: Abrimos das 9h às 18h." in context
    assert "nome_completo, cpf" in context
    # The fields' names, not their prompts (nor, of course, the contact's answers).
    assert "Qual é o seu" not in context


def test_an_empty_tenant_configuration_gives_an_empty_context() -> None:
    assert build([("user", "Oi")], tenant=TenantConfig()).tenant_context == ""


def test_the_budget_keeps_the_newest_turns_in_order() -> None:
    history: list[tuple[Role, str]] = [
        ("user", "primeira.."),
        ("assistant", "segunda..."),
        ("user", "terceira.."),
        ("assistant", "quarta...."),
        ("user", "quinta...."),
    ]
    request = build(history, budget=35)
    assert request.history == (
        AiTurn(role="user", text="terceira.."),
        AiTurn(role="assistant", text="quarta...."),
        AiTurn(role="user", text="quinta...."),
    )


def test_an_older_short_turn_is_not_kept_past_a_gap() -> None:
    history: list[tuple[Role, str]] = [("user", "oi"), ("assistant", "x" * 30), ("user", "b" * 10)]
    assert build(history, budget=15).history == (AiTurn(role="user", text="b" * 10),)


def test_a_message_longer_than_the_budget_keeps_its_end() -> None:
    message = "Bom dia! " * 20 + "Vocês entregam no sábado?"
    request = build([("assistant", "Olá!"), ("user", message)], budget=30)
    assert request.history == (AiTurn(role="user", text=message[-30:]),)
    assert request.history[0].text.endswith("entregam no sábado?")


def test_the_budget_counts_redacted_text_so_a_phone_is_never_cut_in_half() -> None:
    message = "Me liga no 11987654321"
    request = build([("user", message)], budget=10)
    assert request.history[0].text == "no [phone]"
    assert "8765" not in request.model_dump_json()


def test_the_tenant_model_overrides_the_default() -> None:
    own = TenantConfig(ai=AiConfig(enabled=True, model="gpt-4.1"))
    assert build([("user", "Oi")], tenant=own).model == "gpt-4.1"
    assert build([("user", "Oi")], model="gpt-4o-mini").model == "gpt-4o-mini"
    assert build([("user", "Oi")], tenant=TenantConfig(), model=None).model is None


def test_the_fingerprint_is_stable_and_follows_the_content() -> None:
    history: list[tuple[Role, str]] = [("user", "Oi"), ("assistant", "Olá!"), ("user", "Preço?")]
    first, again = build(history), build(list(history))
    assert first.fingerprint() == again.fingerprint()
    assert build([*history[:-1], ("user", "Prazo?")]).fingerprint() != first.fingerprint()
    assert build(history, model="gpt-4.1").fingerprint() != first.fingerprint()


@pytest.mark.parametrize("budget", [0, -1])
def test_a_budget_below_one_character_is_a_programming_error(budget: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        build([("user", "Oi")], budget=budget)


def test_there_must_be_a_message_to_answer() -> None:
    with pytest.raises(ValueError, match="history"):
        build([])
