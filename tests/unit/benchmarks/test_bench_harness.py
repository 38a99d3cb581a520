"""The benchmark harness's own logic: how figures are judged and printed, how deliveries are
sized and signed, how Firestore operations are counted."""

import json
from types import SimpleNamespace

import pytest

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


class _Response:
    """A proto-plus message stand-in: `type(r).pb(r)` gives the protobuf."""

    def __init__(self, found=False, missing="", document=False):
        self.raw = SimpleNamespace(
            HasField=lambda name: {"found": found, "document": document}[name], missing=missing
        )

    @classmethod
    def pb(cls, message):
        return message.raw


def test_firestore_operations_are_counted_as_billed(monkeypatch):
    counted = []
    monkeypatch.setattr(firestore_ops, "_add", lambda **amounts: counted.append(amounts))
    counter = firestore_ops._Counter()
    details = SimpleNamespace(method="/google.firestore.v1.Firestore/Commit")
    counter.intercept_unary_unary(lambda d, r: "ok", details, SimpleNamespace(writes=[1, 2, 3]))
    get = SimpleNamespace(method="/google.firestore.v1.Firestore/BatchGetDocuments")
    stream = counter.intercept_unary_stream(
        lambda d, r: iter([_Response(found=True), _Response(missing="x")]), get, None
    )
    assert len(list(stream)) == 2
    query = SimpleNamespace(method="/google.firestore.v1.Firestore/RunQuery")
    list(counter.intercept_unary_stream(lambda d, r: iter([]), query, None))
    reads = sum(amounts.get("reads", 0) for amounts in counted)
    writes = sum(amounts.get("writes", 0) for amounts in counted)
    assert (reads, writes) == (3, 3)  # a found and a missing document, an empty query
