"""Document sizes as Firestore documents them (https://cloud.google.com/firestore/docs/storage-size)."""

from datetime import UTC, datetime

import pytest

from atende.adapters.firestore import doc_size


def test_the_documented_example_document():
    # The page's example is users/jeff/tasks/my_task_id: name 44 bytes (6 + 5 + 6 + 11 + 16),
    # fields 71, + 32 = 147. In a top-level collection `tasks` the name is 6 + 11 + 16 = 33.
    fields = {
        "type": "Personal",
        "done": False,
        "priority": 1,
        "description": "Learn Cloud Firestore",
    }
    assert doc_size.fields_size(fields) == 71
    assert doc_size.document_size("tasks", "my_task_id", fields) == 33 + 71 + 32


def test_strings_count_their_utf8_bytes_plus_one():
    assert doc_size.string_size("tasks") == 6
    assert doc_size.string_size("😀") == 5
    assert doc_size.string_size("é") == 3


def test_values_by_type_and_nested_maps_are_an_upper_bound():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert doc_size.value_size(None) == 1
    assert doc_size.value_size(True) == 1
    assert doc_size.value_size(7) == 8
    assert doc_size.value_size(0.5) == 8
    assert doc_size.value_size(now) == 8
    assert doc_size.value_size(b"abc") == 3
    assert doc_size.value_size(["a", "bc"]) == 2 + 3
    # A map: its fields (as in a document), plus the document's 32 as a margin.
    assert doc_size.value_size({"done": False}) == 6 + 32


def test_an_unknown_type_is_refused_rather_than_guessed():
    with pytest.raises(TypeError):
        doc_size.value_size(object())
