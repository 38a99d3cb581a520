"""The benchmark harness's own logic: how figures are judged and printed, how deliveries are
sized and signed, how Firestore operations are counted."""

import json
from collections import Counter
from types import SimpleNamespace

import pytest
from google.cloud.firestore_v1.types import document, query, write
from google.cloud.firestore_v1.types import firestore as fs

from bench import deliveries, firestore_ops, wrk
from bench.__main__ import memory_figures
from bench.report import Figure, render


def test_deliveries_have_the_asked_size_a_valid_signature_and_unique_ids():
    first, second = deliveries.delivery(4096, serial=1), deliveries.delivery(4096, serial=2)
    assert len(first) == 4096 and len(second) == 4096
    ids = {json.loads(b)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
           for b in (first, second)}  # fmt: skip
    assert len(ids) == 2
    ten = json.loads(deliveries.delivery(4096, messages=10))
    assert len(ten["entry"][0]["changes"][0]["value"]["messages"]) == 10
    assert deliveries.headers(first)["x-hub-signature-256"].startswith("sha256=")


def test_the_table_shows_every_figure_with_its_verdict_and_details():
    table = render(
        [Figure("1. a", "0.80", ">= 0.75", True), Figure("3. b", "20", "<= 8", False, "why")],
        machine="test box",
    )
    lines = table.splitlines()
    assert lines[0] == "Atende benchmarks — test box"
    assert any(line.startswith("1. a") and line.rstrip().endswith("PASS") for line in lines)
    assert any(line.startswith("3. b") and line.rstrip().endswith("FAIL") for line in lines)
    assert "  3. b: why" in lines


def test_memory_keeps_each_functions_peak_over_both_benchmarks_and_ignores_bare():
    figures = memory_figures(
        {
            "benchmark 1": {"bare": 300.0, "whatsapp_webhook": 90.0},
            "benchmark 3": {"whatsapp_webhook": 120.0, "send_outbound": 210.0},
        }
    )
    assert [(f.name, f.value, f.passed) for f in figures] == [
        ("4. peak RSS send_outbound", "210 MiB (benchmark 3)", False),
        ("4. peak RSS whatsapp_webhook", "120 MiB (benchmark 3)", True),
    ]


def test_wrk_results_are_read_from_the_scripts_summary_line(tmp_path, monkeypatch):
    summary = {"requests": 3000, "duration_us": 15_000_000, "p50_us": 40_000, "p99_us": 120_000,
               "connect": 0, "read": 1, "write": 0, "status": 2, "timeout": 0}  # fmt: skip
    printed = "Running 15s test\nWRK_JSON " + json.dumps(summary) + "\n"
    monkeypatch.setattr(wrk, "require_wrk", lambda: "wrk")
    monkeypatch.setattr(
        wrk.subprocess, "run", lambda *a, **k: SimpleNamespace(stdout=printed, stderr="")
    )
    result = wrk.run("http://127.0.0.1:1/", tmp_path / "b.txt", connections=200, seconds=15,
                     work_dir=tmp_path)  # fmt: skip
    assert (result.rate, result.p50_ms, result.p99_ms, result.errors) == (200.0, 40.0, 120.0, 3)


def test_wrk_without_a_summary_is_an_error_not_a_zero(tmp_path, monkeypatch):
    monkeypatch.setattr(wrk, "require_wrk", lambda: "wrk")
    monkeypatch.setattr(
        wrk.subprocess, "run", lambda *a, **k: SimpleNamespace(stdout="crash", stderr="")
    )
    with pytest.raises(RuntimeError, match="no summary"):
        wrk.run("http://x/", tmp_path / "b", connections=1, seconds=1, work_dir=tmp_path)


_DOCUMENTS = "projects/atende-bench/databases/(default)/documents"


def _stream(responses):
    return lambda details, request: iter(responses)


def _call(method):
    return SimpleNamespace(method=f"/google.firestore.v1.Firestore/{method}")


def test_firestore_operations_are_counted_as_billed_and_by_collection(monkeypatch):
    """Real request and response messages of the Firestore client, as the interceptor sees
    them: a commit of three writes (update, delete, transform), a get that finds one
    document and misses another, a query that returns one, an empty query, a GetDocument."""
    counted = Counter()
    monkeypatch.setattr(firestore_ops, "_add", lambda **amounts: counted.update(amounts))
    counter = firestore_ops._Counter()
    commit = fs.CommitRequest(
        writes=[
            write.Write(update=document.Document(name=f"{_DOCUMENTS}/sessions/s1")),
            write.Write(delete=f"{_DOCUMENTS}/outbox/o1"),
            write.Write(
                transform=write.DocumentTransform(document=f"{_DOCUMENTS}/sessions/s1/inbox/m1")
            ),
        ]
    )
    counter.intercept_unary_unary(lambda d, r: "ok", _call("Commit"), commit)
    found = fs.BatchGetDocumentsResponse(found=document.Document(name=f"{_DOCUMENTS}/dedupe/d"))
    missing = fs.BatchGetDocumentsResponse(missing=f"{_DOCUMENTS}/sessions/s2")
    got = counter.intercept_unary_stream(
        _stream([found, missing]), _call("BatchGetDocuments"), fs.BatchGetDocumentsRequest()
    )
    assert len(list(got)) == 2
    outbox_query = fs.RunQueryRequest(
        parent=_DOCUMENTS,
        structured_query=query.StructuredQuery(
            from_=[query.StructuredQuery.CollectionSelector(collection_id="outbox")]
        ),
    )
    one = fs.RunQueryResponse(document=document.Document(name=f"{_DOCUMENTS}/outbox/o2"))
    list(counter.intercept_unary_stream(_stream([one]), _call("RunQuery"), outbox_query))
    inbox_query = fs.RunQueryRequest(
        parent=f"{_DOCUMENTS}/sessions/s1",
        structured_query=query.StructuredQuery(
            from_=[query.StructuredQuery.CollectionSelector(collection_id="inbox")]
        ),
    )
    list(counter.intercept_unary_stream(_stream([]), _call("RunQuery"), inbox_query))
    get = fs.GetDocumentRequest(name=f"{_DOCUMENTS}/tenants/bench")
    counter.intercept_unary_unary(lambda d, r: "ok", _call("GetDocument"), get)

    assert (counted["reads"], counted["writes"]) == (5, 3)
    assert firestore_ops.by_collection(dict(counted)) == {
        "dedupe": {"reads": 1, "writes": 0},
        "outbox": {"reads": 1, "writes": 1},
        "sessions": {"reads": 1, "writes": 1},
        "sessions/*/inbox": {"reads": 1, "writes": 1},
        "tenants": {"reads": 1, "writes": 0},
    }
    assert counted["calls.RunQuery"] == 2


def test_a_documents_collection_is_read_from_its_full_name():
    assert firestore_ops.collection_of(f"{_DOCUMENTS}/sessions/abc") == "sessions"
    assert firestore_ops.collection_of(f"{_DOCUMENTS}/sessions/abc/inbox/m1") == (
        "sessions/*/inbox"
    )
