"""The tenant configuration stored at `tenants/{id}`, validated on load.

Every field has a default, so an empty document (or none) is the default flow. Texts are
Brazilian Portuguese by default; a tenant overrides any of them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from atende.tenants.hours import BusinessHours

Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Reply = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1024)]


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"pattern {pattern!r} does not compile: {error}") from None
    return pattern


#: Session retention after the last activity (days): the default, and the allowed range.
DEFAULT_SESSION_RETENTION_DAYS = 180
MIN_SESSION_RETENTION_DAYS = 31
MAX_SESSION_RETENTION_DAYS = 3650


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Messages(_Config):
    greeting: Reply = "Olá! 👋 Eu sou a assistente virtual da Atende."
    triage_question: Reply = (
        "Como posso ajudar? Conte em poucas palavras o que você precisa. "
        "Se preferir falar com uma pessoa, escreva ATENDENTE."
    )
    welcome_back: Reply = "Olá de novo! 👋"
    default_answer: Reply = (
        "Obrigada! Registrei sua mensagem e nossa equipe vai analisar. "
        "Para falar com uma pessoa agora, escreva ATENDENTE."
    )
    anything_else: Reply = "Posso ajudar em algo mais?"
    goodbye: Reply = "Foi um prazer ajudar! Se precisar, é só escrever. 😊"
    cannot_read: Reply = (
        "Desculpe, ainda não consigo ler esse tipo de mensagem. Pode escrever em texto?"
    )
    invalid_field: Reply = "Não consegui entender. Pode conferir e enviar de novo?"
    handoff_notice: Reply = (
        "Certo! Vou transferir você para uma pessoa da nossa equipe. Aguarde um instante."
    )
    handoff_off_hours: Reply = (
        "Nossa equipe está fora do horário de atendimento agora. Sua conversa já está na fila "
        "e uma pessoa responde assim que voltarmos."
    )
    off_hours: Reply = (
        "Estamos fora do horário de atendimento agora, mas posso ajudar com dúvidas simples. "
        "Pessoas da equipe respondem no próximo horário de atendimento."
    )
    handback: Reply = "Você está de volta com a assistente virtual. Posso ajudar em algo mais?"
    opt_out_confirmation: str = (
        "Tudo bem, não enviaremos mais mensagens automáticas. Se quiser voltar, é só escrever."
    )
    abuse_notice: Reply = (
        "Recebemos muitas mensagens em pouco tempo. Vamos pausar as respostas automáticas "
        "por alguns minutos."
    )
    error_apology: Reply = (
        "Desculpe, algo deu errado do nosso lado. Pode repetir sua última mensagem?"
    )
    #: Appointment notices; `{summary}`, `{date}`, `{time}` and `{location}` are filled in
    #: (in the business hours' time zone). Empty: no notice for that change.
    appointment_created: str = "Seu agendamento ({summary}) está confirmado para {date} às {time}."
    appointment_updated: str = "Seu agendamento ({summary}) mudou: agora é {date} às {time}."
    appointment_cancelled: str = "Seu agendamento ({summary}) de {date} às {time} foi cancelado."
    #: Sent when an idle conversation is closed; empty to close silently.
    idle_close: str = (
        "Como não tivemos resposta, vou encerrar este atendimento. Se precisar, é só escrever!"
    )


class FaqEntry(_Config):
    #: Words or phrases; the entry matches a message that contains any of them.
    keywords: tuple[Keyword, ...] = Field(min_length=1)
    answer: Reply
    #: The queue a handoff goes to after this entry matched.
    queue: Label | None = None


class RequiredField(_Config):
    name: Label
    prompt: Reply
    #: A regular expression the whole (trimmed) answer must match.
    pattern: str | None = None

    _check_pattern = field_validator("pattern")(
        lambda value: None if value is None else _compiles(value)
    )


class RoutingRule(_Config):
    keywords: tuple[Keyword, ...] = Field(min_length=1)
    queue: Label


class AbusePolicy(_Config):
    #: At most this many messages per contact in `flood_window_seconds`.
    flood_limit: int = Field(default=10, ge=1, le=50)
    flood_window_seconds: int = Field(default=60, ge=1, le=86_400)
    #: The same text this many times in a row is abuse.
    repeat_limit: int = Field(default=4, ge=2, le=50)
    max_input_chars: int = Field(default=2000, ge=1, le=65_536)
    cooldown_seconds: int = Field(default=600, ge=1, le=86_400)


class AiConfig(_Config):
    enabled: bool = False
    #: Overrides the deployment's default model.
    model: str | None = None
    #: Added to the system prompt: tone, products, what to avoid.
    prompt: str = Field(default="", max_length=4000)
    #: Replies the model is less sure of than this fall back to the deterministic reply.
    min_confidence: float = Field(default=0.5, ge=0, le=1)


class TenantConfig(_Config):
    messages: Messages = Messages()
    #: None: the team is always reachable.
    business_hours: BusinessHours | None = None
    handoff_keywords: tuple[Keyword, ...] = (
        "atendente", "humano", "pessoa", "atendimento humano", "human", "agent",
    )  # fmt: skip
    #: A message that is exactly one of these (ignoring case, accents and punctuation).
    opt_out_keywords: tuple[Keyword, ...] = ("sair", "parar", "stop", "cancelar mensagens")
    #: A message that is exactly one of these ends the conversation after an answer.
    closing_keywords: tuple[Keyword, ...] = (
        "nao", "não", "nao obrigado", "não, obrigado", "obrigado", "obrigada", "so isso",
        "só isso", "tchau", "valeu", "no thanks",
    )  # fmt: skip
    faq: tuple[FaqEntry, ...] = ()
    #: Asked, in order, before the first answer (at most 20: the session keeps their values).
    required_fields: tuple[RequiredField, ...] = Field(default=(), max_length=20)
    routing: tuple[RoutingRule, ...] = ()
    default_queue: Label = "default"
    ai: AiConfig = AiConfig()
    #: Regular expressions (case-insensitive) an AI reply must never match.
    prohibited_patterns: tuple[str, ...] = ()
    abuse: AbusePolicy = AbusePolicy()
    idle_timeout_seconds: int = Field(default=1800, ge=1, le=30 * 86_400)
    #: Days a session (its messages and collected values: personal data) is kept after its
    #: last activity; then it expires and the contact's next message starts afresh. At
    #: least 31 days: longer than the longest conversation timer (the idle timeout, at
    #: most 30 days), so no timer ever fires on an expired session.
    #: "dry_run": send_outbound builds and validates each reply's provider request as usual
    #: (credentials, recipient, limits) and never sends it; the reply is recorded `sent`
    #: with the dry-run marks (history detail `dry_run`, `last_call: not_called`, no
    #: provider message id) and an audit entry `outcome: dry_run`. Meant for the smoke
    #: tenant of `atende smoke` only: a tenant with it answers nobody.
    outbound: Literal["send", "dry_run"] = "send"
    session_retention_days: int = Field(
        default=DEFAULT_SESSION_RETENTION_DAYS,
        ge=MIN_SESSION_RETENTION_DAYS,
        le=MAX_SESSION_RETENTION_DAYS,
    )

    @property
    def session_retention(self) -> timedelta:
        return timedelta(days=self.session_retention_days)

    @field_validator("prohibited_patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_compiles(pattern) for pattern in value)

    @field_validator("required_fields")
    @classmethod
    def _unique_fields(cls, value: tuple[RequiredField, ...]) -> tuple[RequiredField, ...]:
        names = [field.name for field in value]
        if len(names) != len(set(names)):
            raise ValueError("required field names must be unique")
        return value


DEFAULT_CONFIG = TenantConfig()
