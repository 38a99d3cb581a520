"""Which AI replies reach the contact, and the reason code recorded for those that do not."""

from __future__ import annotations

import pytest

from atende.ai.contract import AiReply, AiRequest, AiTurn
from atende.ai.validate import validate_reply
from atende.tenants.tenant_config import AiConfig, FaqEntry, RequiredField, TenantConfig

TENANT = TenantConfig(
    ai=AiConfig(enabled=True, min_confidence=0.6),
    faq=(
        FaqEntry(
            keywords=("telefone", "contato"),
            answer="Ligue para (11) 3333-4444 ou escreva para Contato@Loja.com.br.",
        ),
    ),
    required_fields=(
        RequiredField(name="cpf", prompt="Qual é o seu CPF? (formato 000.000.000-00)"),
    ),
    prohibited_patterns=(r"garant\w* .*reembolso", r"desconto de \d+ ?%"),
)

REQUEST = AiRequest(
    tenant_id="loja",
    channel="whatsapp",
    state="triage",
    allowed_next_states=("waiting_user", "handoff"),
    history=(AiTurn(role="user", text="Meu e-mail é [email], telefone [phone]"),),
    tenant_context="",
    text_limit=120,
)

CONTACT_SAID = ("Meu e-mail é Ana.Souza@Example.com", "pode ligar no +55 11 98765-4321")


def reply(text: str, next_state: str = "waiting_user", confidence: float = 0.9) -> AiReply:
    return AiReply(reply=text, next_state=next_state, handoff=False, confidence=confidence)


CASES = [
    ("good reply", reply("Claro! Vou verificar seu pedido e já retorno."), None),
    ("staying in the state", reply("Pode me contar mais?", next_state="triage"), None),
    ("exactly the limit", reply("a" * 120), None),
    ("blank", reply("  \n "), "empty_reply"),
    ("over the limit", reply("a" * 121), "too_long"),
    ("state not allowed", reply("Encerrando.", next_state="closed"), "forbidden_transition"),
    ("unsure", reply("Talvez amanhã.", confidence=0.59), "low_confidence"),
    ("refund promise", reply("Garantimos o reembolso integral!"), "prohibited_promise"),
    ("discount promise", reply("Você ganhou DESCONTO DE 50%!"), "prohibited_promise"),
    ("parroted phone marker", reply("Vamos ligar para [phone]."), "redaction_marker"),
    ("parroted email marker", reply("Enviamos para [EMAIL]."), "redaction_marker"),
    ("contact's e-mail, other case", reply("Enviamos para ana.souza@example.com."), None),
    ("contact's phone, no country code", reply("Ligaremos para (11) 98765-4321."), None),
    ("contact's phone, bare digits", reply("Ligaremos para 5511987654321."), None),
    ("tenant FAQ phone", reply("Nosso telefone é 11 3333-4444."), None),
    ("tenant FAQ e-mail", reply("Escreva para contato@loja.com.br."), None),
    ("made-up e-mail", reply("Escreva para joao.silva@gmail.com."), "pii_echo"),
    ("made-up mobile", reply("Ligue para (21) 99999-0000."), "pii_echo"),
    ("made-up landline", reply("Ligue para 3232-1111."), "pii_echo"),
    ("made-up CPF", reply("Seu CPF é 123.456.789-09."), "pii_echo"),
    ("made-up CPF digits", reply("Seu CPF é 12345678909."), "pii_echo"),
    ("made-up CNPJ", reply("Nosso CNPJ: 12.345.678/0001-95."), "pii_echo"),
    ("dates and times are not numbers", reply("Entrega em 15/03/2025 às 14:30."), None),
    ("an ISO date", reply("Pedido de 2025-03-15, valor R$ 1.234,56."), None),
    # The first failed check wins.
    ("too long and prohibited", reply("Garantimos reembolso " + "!" * 120), "too_long"),
    ("unsure and made-up phone", reply("(21) 99999-0000", confidence=0.1), "low_confidence"),
    ("marker and made-up e-mail", reply("[email] ou x@y.com"), "redaction_marker"),
    ("prohibited and marker", reply("Garantimos reembolso para [phone]"), "prohibited_promise"),
]


@pytest.mark.parametrize(("candidate", "expected"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])  # fmt: skip
def test_validate_reply(candidate: AiReply, expected: str | None) -> None:
    assert validate_reply(candidate, REQUEST, CONTACT_SAID, TENANT) == expected


def test_a_phone_the_contact_never_sent_is_refused_even_if_another_was() -> None:
    candidate = reply("Ligaremos para (11) 98765-1234.")
    assert validate_reply(candidate, REQUEST, CONTACT_SAID, TENANT) == "pii_echo"


def test_without_the_contact_texts_their_own_e_mail_is_refused() -> None:
    candidate = reply("Enviamos para ana.souza@example.com.")
    assert validate_reply(candidate, REQUEST, (), TENANT) == "pii_echo"


def test_the_default_tenant_accepts_any_confidence_above_one_half() -> None:
    default = TenantConfig()
    assert validate_reply(reply("Olá!", confidence=0.5), REQUEST, (), default) is None
    assert validate_reply(reply("Olá!", confidence=0.49), REQUEST, (), default) == (
        "low_confidence"
    )
