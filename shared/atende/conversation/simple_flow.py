"""A small deterministic flow: greeting -> triage question -> handoff on a keyword.

It stands in for the full engine (policies, FSM, AI) behind the same `ConversationStep`.
"""

from __future__ import annotations

import unicodedata

from atende.conversation.step import Turn
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.messages import TextMessage

NEW, TRIAGE, HANDOFF = "new", "triage", "handoff"

GREETING = "Olá! 👋 Eu sou a assistente virtual da Atende."
TRIAGE_QUESTION = (
    "Como posso ajudar? Conte em poucas palavras o que você precisa. "
    "Se preferir falar com uma pessoa, escreva ATENDENTE."
)
FOLLOW_UP = (
    "Obrigada! Anotei sua mensagem. Quer acrescentar algum detalhe? "
    "Para falar com uma pessoa, escreva ATENDENTE."
)
HANDOFF_NOTICE = "Certo! Vou transferir você para uma pessoa da nossa equipe. Aguarde um instante."
CANNOT_READ = "Desculpe, ainda não consigo ler esse tipo de mensagem. Pode escrever em texto?"

HANDOFF_KEYWORDS = frozenset({"atendente", "humano", "pessoa", "human", "agent", "atendimento"})

#: Kinds that carry nothing to answer (a "number changed" notice, for example).
_SILENT_KINDS = frozenset({MessageKind.SYSTEM})


def _words(text: str | None) -> set[str]:
    if not text:
        return set()
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return {word.strip(".,!?;:") for word in plain.split()}


class SimpleFlow:
    def respond(self, state: str, message: MessageReceived) -> Turn:
        if state == HANDOFF:
            return Turn(state=HANDOFF, reason="bot_silent_in_handoff")
        if message.kind in _SILENT_KINDS:
            return Turn(state=state, reason=f"ignored_{message.kind.value}")
        if state == NEW:
            return Turn(
                state=TRIAGE,
                replies=(TextMessage(body=GREETING), TextMessage(body=TRIAGE_QUESTION)),
                reason="greeted",
            )
        if _words(message.text) & HANDOFF_KEYWORDS or message.choice_id == "handoff":
            return Turn(
                state=HANDOFF,
                replies=(TextMessage(body=HANDOFF_NOTICE),),
                handoff=True,
                reason="handoff_keyword",
            )
        if message.kind == MessageKind.UNSUPPORTED:
            return Turn(
                state=TRIAGE, replies=(TextMessage(body=CANNOT_READ),), reason="unsupported"
            )
        return Turn(state=TRIAGE, replies=(TextMessage(body=FOLLOW_UP),), reason="triage_follow_up")
