"""Counts the Firestore operations of a function process, as Firestore bills them.

    python -m bench.firestore_ops COUNTS.json functions-framework-args...

runs functions-framework exactly as `functions-framework ARGS` would, with every gRPC channel
to the Firestore emulator intercepted: documents read (each document a get or a query
returns, a missing one included; an empty query counts one) and documents written (each
write of a commit, deletes included), plus calls per method. The counts are written to
COUNTS.json every 0.2 s while they change. Production code knows nothing of this.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc

_counts: Counter[str] = Counter()
_lock = threading.Lock()
_dumper: threading.Thread | None = None


def _add(**amounts: int) -> None:
    global _dumper
    with _lock:
        _counts.update(amounts)
        if _dumper is None or not _dumper.is_alive():  # started in the (forked) worker
            _dumper = threading.Thread(target=_dump_forever, daemon=True)
            _dumper.start()


def _dump_forever() -> None:
    path = Path(os.environ["ATENDE_BENCH_FIRESTORE_COUNTS"])
    written: dict[str, int] = {}
    while True:
        with _lock:
            current = dict(_counts)
        if current != written:
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(current))
            temporary.replace(path)
            written = current
        time.sleep(0.2)


def _method(details: Any) -> str:
    return str(details.method).rsplit("/", 1)[-1]


class _CountedStream:
    """A streaming response that counts the documents it yields."""

    def __init__(self, inner: Any, method: str) -> None:
        self._inner = inner
        self._method = method
        self._documents = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            response = next(self._inner)
        except StopIteration:
            if self._method == "RunQuery" and self._documents == 0:
                _add(reads=1)  # an empty query is billed one read
            raise
        raw = type(response).pb(response)  # proto-plus message -> its protobuf
        if (self._method == "BatchGetDocuments" and (raw.HasField("found") or raw.missing)) or (
            self._method == "RunQuery" and raw.HasField("document")
        ):
            self._documents += 1
            _add(reads=1)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Counter(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        method = _method(details)
        _add(**{f"calls.{method}": 1})
        if method == "Commit":
            _add(writes=len(request.writes))
        elif method == "GetDocument":
            _add(reads=1)
        return continuation(details, request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        method = _method(details)
        _add(**{f"calls.{method}": 1})
        return _CountedStream(continuation(details, request), method)


def install() -> None:
    emulator = os.environ["FIRESTORE_EMULATOR_HOST"]
    original = grpc.insecure_channel

    def insecure_channel(target: str, *args: Any, **kwargs: Any) -> grpc.Channel:
        channel = original(target, *args, **kwargs)
        if target != emulator:
            return channel
        return grpc.intercept_channel(channel, _Counter())

    grpc.insecure_channel = insecure_channel


def main() -> None:
    os.environ["ATENDE_BENCH_FIRESTORE_COUNTS"] = str(Path(sys.argv[1]).resolve())
    install()
    from functions_framework._cli import _cli

    _cli(sys.argv[2:])


if __name__ == "__main__":
    main()
