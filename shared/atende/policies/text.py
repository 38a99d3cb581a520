"""Matching keywords the way people type them: any case, with or without accents."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NOT_WORD = re.compile(r"[^\w]+")


def normalized_words(text: str | None) -> tuple[str, ...]:
    """Lower-case words without accents or punctuation: "Não, OBRIGADO!" -> (nao, obrigado)."""
    if not text:
        return ()
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return tuple(word for word in _NOT_WORD.split(plain) if word)


def contains_phrase(words: tuple[str, ...], phrase: str) -> bool:
    """Whether the phrase's words occur in `words`, together and in order."""
    wanted = normalized_words(phrase)
    if not wanted:
        return False
    size = len(wanted)
    return any(words[i : i + size] == wanted for i in range(len(words) - size + 1))


def first_phrase(text: str | None, phrases: Iterable[str]) -> str | None:
    """The first of `phrases` the text contains, or None."""
    words = normalized_words(text)
    return next((phrase for phrase in phrases if contains_phrase(words, phrase)), None)


def is_exactly(text: str | None, phrases: Iterable[str]) -> bool:
    """The whole text is one of the phrases (ignoring case, accents and punctuation)."""
    words = normalized_words(text)
    return bool(words) and any(words == normalized_words(phrase) for phrase in phrases)
