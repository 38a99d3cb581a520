"""The WebDAV XML we send and read: RFC 6578 sync-collection and RFC 4791 multiget."""

from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest

from atende.channels.apple_calendar.dav_xml import (
    has_precondition,
    member_key,
    multiget_body,
    parse_multistatus,
    status_code,
    sync_collection_body,
)
from atende.errors import MalformedPayloadError

DATA = Path(__file__).resolve().parents[3] / "data" / "apple_calendar"
CALENDAR = "https://webdav.example.com/home/cyrusdaboo/calendar/"
D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_the_initial_sync_request_asks_for_every_member_one_level_deep_with_etag_and_data():
    root = SafeET.fromstring(sync_collection_body(None))
    assert root.tag == f"{D}sync-collection"
    token = root.find(f"{D}sync-token")
    assert token is not None and not (token.text or "").strip()
    assert root.findtext(f"{D}sync-level") == "1"
    props = [child.tag for child in root.find(f"{D}prop")]
    assert props == [f"{D}getetag", f"{C}calendar-data"]


def test_a_stored_token_is_sent_escaped_so_it_cannot_change_the_request():
    token = "http://example.com/ns/sync/12?a=1&b=<2>"
    root = SafeET.fromstring(sync_collection_body(token))
    assert root.findtext(f"{D}sync-token") == token


def test_a_multiget_names_each_href_and_asks_for_etag_and_data():
    root = SafeET.fromstring(multiget_body(["/cal/a.ics", "/cal/b&c.ics"]))
    assert root.tag == f"{C}calendar-multiget"
    assert [h.text for h in root.findall(f"{D}href")] == ["/cal/a.ics", "/cal/b&c.ics"]
    assert [p.tag for p in root.find(f"{D}prop")] == [f"{D}getetag", f"{C}calendar-data"]


def test_an_initial_answer_lists_each_member_with_etag_data_and_the_new_token():
    page = parse_multistatus(load("sync_initial.xml"), CALENDAR)
    assert page.token == "http://example.com/ns/sync/1234"
    assert not page.truncated and page.removed == () and page.other == 0
    first, second = page.members
    assert first.key == "/home/cyrusdaboo/calendar/7B1A5D3E.ics"
    assert first.href == "https://webdav.example.com/home/cyrusdaboo/calendar/7B1A5D3E.ics"
    assert first.etag == '"00001-abcd1"'
    assert first.calendar_data is not None
    assert "UID:7B1A5D3E-4C2F-4E0A-9F0B-2D6C8E1F3A45" in first.calendar_data
    # Escaped and absolute hrefs of one member compare equal once decoded.
    assert second.key == "/home/cyrusdaboo/calendar/second event.ics"
    assert second.href == "/home/cyrusdaboo/calendar/second%20event.ics"


def test_a_404_response_without_propstat_is_a_removed_member():
    page = parse_multistatus(load("sync_changed_and_removed.xml"), CALENDAR)
    assert [m.key for m in page.members] == ["/home/cyrusdaboo/calendar/7B1A5D3E.ics"]
    assert page.removed == ("/home/cyrusdaboo/calendar/second event.ics",)
    assert page.removed_hrefs == ("/home/cyrusdaboo/calendar/second%20event.ics",)
    assert page.token == "http://example.com/ns/sync/1238"


def test_a_507_on_the_collection_marks_a_truncated_answer_and_is_not_a_member():
    page = parse_multistatus(load("sync_truncated_507.xml"), CALENDAR)
    assert page.truncated
    assert [m.key for m in page.members] == ["/home/cyrusdaboo/calendar/7B1A5D3E.ics"]
    assert page.token == "http://example.com/ns/sync/1233"
    assert page.members[0].calendar_data is None


def test_icloud_listing_the_collection_itself_and_data_in_a_404_propstat():
    page = parse_multistatus(load("sync_icloud_etags_only.xml"), CALENDAR)
    # The collection's own response is ignored; the member has an etag but no data.
    assert [m.key for m in page.members] == ["/home/cyrusdaboo/calendar/7B1A5D3E.ics"]
    assert page.members[0].etag == '"C=2917@U=4b6b1c7f"'
    assert page.members[0].calendar_data is None
    assert not page.truncated
    assert page.token == "HwoQEgwAAAh7nHx4AAAAAAAYAhgAIhYIpL3Lh9Xs"


def test_a_multiget_answer_gives_data_and_reports_a_member_gone_meanwhile_as_removed():
    page = parse_multistatus(load("multiget_response.xml"), CALENDAR)
    assert [m.etag for m in page.members] == ['"C=2918@U=4b6b1c7f"']
    assert page.removed == ("/home/cyrusdaboo/calendar/gone.ics",)
    assert page.token is None


@pytest.mark.parametrize("fixture", ["malformed.xml", "entity_expansion.xml"])
def test_broken_or_hostile_xml_is_a_malformed_payload(fixture):
    with pytest.raises(MalformedPayloadError):
        parse_multistatus(load(fixture), CALENDAR)


def test_a_document_that_is_not_a_multistatus_is_malformed():
    with pytest.raises(MalformedPayloadError):
        parse_multistatus(load("error_valid_sync_token.xml"), CALENDAR)


def test_the_valid_sync_token_precondition_is_recognised_and_others_are_not():
    assert has_precondition(load("error_valid_sync_token.xml"), "valid-sync-token")
    assert not has_precondition(load("error_supported_report.xml"), "valid-sync-token")
    assert not has_precondition(b"", "valid-sync-token")
    assert not has_precondition(load("entity_expansion.xml"), "valid-sync-token")


@pytest.mark.parametrize(
    ("line", "code"),
    [("HTTP/1.1 200 OK", 200), (" HTTP/1.1 404 Not Found", 404), ("HTTP/2 507", 507), ("ok", None)],
)
def test_status_lines(line, code):
    assert status_code(line) == code


def test_member_keys_are_decoded_absolute_paths():
    assert member_key(CALENDAR, "a%40b.ics") == "/home/cyrusdaboo/calendar/a@b.ics"
    assert member_key(CALENDAR, " https://other.example/x/y.ics ") == "/x/y.ics"
