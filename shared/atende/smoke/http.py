"""The little HTTP the checks need, behind a port (fakes in the unit tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import requests


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


class Http(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """Raise `requests.RequestException` when nothing answered."""
        ...


class RequestsHttp:
    def __init__(self, timeout: float = 60.0, session: requests.Session | None = None) -> None:
        self._timeout = timeout
        self._session = session or requests.Session()

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        response = self._session.request(
            method,
            url,
            data=body,
            headers=dict(headers or {}),
            params=dict(params or {}),
            timeout=self._timeout,
            allow_redirects=False,
        )
        return Answer(response.status_code, response.text)
