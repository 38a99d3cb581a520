"""Counts the Firestore operations of a function process, as Firestore bills them.

    python -m bench.firestore_ops COUNTS.json functions-framework-args...

runs functions-framework exactly as `functions-framework ARGS` would, with every gRPC channel
to the Firestore emulator intercepted: documents read (each document a get or a query
returns, a missing one included; an empty query counts one) and documents written (each
write of a commit, deletes included), plus calls per method. Each read and write is also
counted under its collection ("reads.sessions", "writes.outbox"; a subcollection reads
"sessions/*/inbox"), so a figure can say which documents a message costs. The counts are
written to COUNTS.json every 0.2 s while they change. Production code knows nothing of this.
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


def _pb(message: Any) -> Any:
    """The protobuf under a proto-plus message (what the Firestore client sends and gets)."""
    return type(message).pb(message)


def collection_of(name: str) -> str:
    """The collection of a document, from its full name: `…/documents/sessions/abc` is
    "sessions", `…/documents/sessions/abc/inbox/m1` is "sessions/*/inbox"."""
    path = name.split("/documents/", 1)[-1].split("/")
    return "/*/".join(path[0:-1:2])


def written_collections(commit: Any) -> list[str]:
    """The collection of each write of a CommitRequest (update, delete or transform)."""
    collections = []
    for write in _pb(commit).writes:
        operation = write.WhichOneof("operation")
        if operation == "update":
            collections.append(collection_of(write.update.name))
        elif operation == "delete":
            collections.append(collection_of(write.delete))
        else:
            collections.append(collection_of(write.transform.document))
    return collections


def queried_collection(run_query: Any) -> str:
    """The collection a RunQueryRequest reads (its parent document, then its first `from`)."""
    raw = _pb(run_query)
    selectors = raw.structured_query.from_
    collection_id = selectors[0].collection_id if selectors else ""
    return collection_of(f"{raw.parent}/{collection_id}/-")


def _count(kind: str, collections: list[str]) -> None:
    """`kind` ("reads" or "writes") once per document, in total and by collection."""
    amounts = Counter({kind: len(collections)})
    amounts.update(f"{kind}.{collection}" for collection in collections)
    _add(**amounts)


def by_collection(counts: dict[str, int]) -> dict[str, dict[str, int]]:
    """{"reads.sessions": 3, "writes.sessions": 2, …} as {"sessions": {"reads": 3, "writes": 2}}."""
    table: dict[str, dict[str, int]] = {}
    for key, amount in counts.items():
        kind, _, collection = key.partition(".")
        if kind in ("reads", "writes") and collection:
            table.setdefault(collection, {"reads": 0, "writes": 0})[kind] += amount
    return dict(sorted(table.items()))


class _CountedStream:
    """A streaming response that counts the documents it yields."""

    def __init__(self, inner: Any, method: str, request: Any) -> None:
        self._inner = inner
        self._method = method
        self._request = request
        self._documents = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            response = next(self._inner)
        except StopIteration:
            if self._method == "RunQuery" and self._documents == 0:
                _count("reads", [queried_collection(self._request)])  # billed one read
            raise
        raw = _pb(response)
        name = None
        if self._method == "BatchGetDocuments" and raw.HasField("found"):
            name = raw.found.name
        elif self._method == "BatchGetDocuments" and raw.missing:
            name = raw.missing
        elif self._method == "RunQuery" and raw.HasField("document"):
            name = raw.document.name
        if name is not None:
            self._documents += 1
            _count("reads", [collection_of(name)])
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
            _count("writes", written_collections(request))
        elif method == "GetDocument":
            _count("reads", [collection_of(_pb(request).name)])
        return continuation(details, request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        method = _method(details)
        _add(**{f"calls.{method}": 1})
        return _CountedStream(continuation(details, request), method, request)


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
