"""The worker functions accept only the queue, and record what they refuse."""

import requests


def test_a_worker_refuses_a_caller_without_the_task_credentials(whatsapp, stack):
    url = stack.function_url("process_inbound")
    assert requests.post(url, data=b"{}", timeout=10).status_code == 401
    forged = {"x-atende-task-token": "guess"}
    assert requests.post(url, data=b"{}", headers=forged, timeout=10).status_code == 401
    assert whatsapp.audit() == []


def test_a_malformed_task_is_recorded_and_acknowledged_so_the_queue_stops(whatsapp, stack):
    headers = {"x-atende-task-token": stack.config.task_secret, "x-atende-correlation-id": "c-1"}
    for name in ("process_inbound", "send_outbound"):
        response = requests.post(
            stack.function_url(name), data=b'{"nope": 1}', headers=headers, timeout=10
        )
        assert (response.status_code, response.json()["outcome"]) == (200, "malformed_payload")
    rejected = [entry for entry in whatsapp.audit() if entry["kind"] == "rejected_input"]
    assert sorted(entry["detail"]["worker"] for entry in rejected) == [
        "process_inbound",
        "send_outbound",
    ]
    assert {entry["correlation_id"] for entry in rejected} == {"c-1"}


def test_a_send_task_for_an_unknown_record_is_done(whatsapp, stack):
    headers = {"x-atende-task-token": stack.config.task_secret}
    response = requests.post(
        stack.function_url("send_outbound"),
        json={"session_id": "s-missing", "outbox_ids": ["missing"]},
        headers=headers,
        timeout=10,
    )
    assert (response.status_code, response.json()["outcome"]) == (200, "unknown_record")
