from __future__ import annotations

import asyncio
import threading

from atende.observability.context import bind, current, new_correlation_id


def test_bind_adds_fields_and_restores_on_exit() -> None:
    assert current() == {}
    with bind(correlation_id="c1", channel="whatsapp"):
        assert current() == {"correlation_id": "c1", "channel": "whatsapp"}
    assert current() == {}


def test_nested_bind_merges_inner_wins_and_restores() -> None:
    with bind(correlation_id="c1", tenant_id="t1"):
        with bind(tenant_id="t2", session_id="s1"):
            assert current() == {"correlation_id": "c1", "tenant_id": "t2", "session_id": "s1"}
        assert current() == {"correlation_id": "c1", "tenant_id": "t1"}


def test_none_hides_an_outer_value_and_is_not_reported() -> None:
    with bind(session_id="s1", outcome=None):
        assert current() == {"session_id": "s1"}
        with bind(session_id=None):
            assert current() == {}
        assert current() == {"session_id": "s1"}


def test_restored_even_when_the_block_raises() -> None:
    try:
        with bind(outbox_id="o1"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert current() == {}


def test_current_returns_a_copy() -> None:
    with bind(event_id="e1"):
        current()["event_id"] = "changed"
        assert current() == {"event_id": "e1"}


def test_threads_and_tasks_do_not_see_each_others_fields() -> None:
    seen: dict[str, dict[str, str]] = {}

    def work(name: str) -> None:
        with bind(correlation_id=name):
            barrier.wait()
            seen[name] = current()

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": {"correlation_id": "a"}, "b": {"correlation_id": "b"}}

    async def task(name: str) -> dict[str, str]:
        with bind(correlation_id=name):
            await asyncio.sleep(0)
            return current()

    async def both() -> list[dict[str, str]]:
        return list(await asyncio.gather(task("x"), task("y")))

    assert asyncio.run(both()) == [{"correlation_id": "x"}, {"correlation_id": "y"}]


def test_new_correlation_id_is_uuid4_hex_and_unique() -> None:
    ids = {new_correlation_id() for _ in range(100)}
    assert len(ids) == 100
    for value in ids:
        assert len(value) == 32
        assert int(value, 16) >= 0
        assert value[12] == "4"
