"""WebDAV XML for CalDAV polling: the REPORT bodies we send, and the multistatus we read.

Request bodies are small fixed documents, written as strings with every value escaped.
Responses are parsed only through defusedxml (no DTDs, no entity expansion), so a hostile or
broken server cannot make the poll job expand or fetch anything.

RFC 6578 (sync-collection): a changed member is a DAV:response with a DAV:propstat; a removed
member is a DAV:response whose DAV:status is 404 and has no propstat (§3.2); a 507 DAV:status
on the request-URI itself means the server truncated the result, and the DAV:sync-token of
that response resumes after the part it returned (§3.6).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as SafeET

from atende.errors import MalformedPayloadError

DAV_NS = "DAV:"
CALDAV_NS = "urn:ietf:params:xml:ns:caldav"

_D = "{DAV:}"
_C = "{" + CALDAV_NS + "}"
_STATUS_LINE = re.compile(r"^\s*HTTP/\d(?:\.\d)?\s+(\d{3})\b")
_PROLOG = '<?xml version="1.0" encoding="utf-8"?>\n'
_PROPS = "<D:prop><D:getetag/><C:calendar-data/></D:prop>"


def sync_collection_body(token: str | None) -> bytes:
    """RFC 6578 §3.2: changes since `token` (None or empty: every member, an initial sync),
    one level deep (DAV:sync-level 1, which CalDAV collections support), with each member's
    etag and iCalendar data."""
    token_element = f"<D:sync-token>{escape(token)}</D:sync-token>" if token else "<D:sync-token/>"
    return (
        _PROLOG + f'<D:sync-collection xmlns:D="DAV:" xmlns:C="{CALDAV_NS}">'
        f"{token_element}<D:sync-level>1</D:sync-level>{_PROPS}</D:sync-collection>"
    ).encode("utf-8")


def multiget_body(hrefs: Iterable[str]) -> bytes:
    """RFC 4791 §7.9: the etag and iCalendar data of the named members, for servers that do
    not return calendar-data inside sync-collection (iCloud may answer with etags only)."""
    listed = "".join(f"<D:href>{escape(href)}</D:href>" for href in hrefs)
    return (
        _PROLOG + f'<C:calendar-multiget xmlns:D="DAV:" xmlns:C="{CALDAV_NS}">'
        f"{_PROPS}{listed}</C:calendar-multiget>"
    ).encode("utf-8")


@dataclass(frozen=True)
class Member:
    """A member the server reports as present (changed, or listed by a full sync)."""

    #: The href as the server wrote it (what a multiget must send back).
    href: str
    #: The normalized path: the key members are compared and remembered by.
    key: str
    etag: str | None
    calendar_data: str | None


@dataclass(frozen=True)
class Multistatus:
    members: tuple[Member, ...] = ()
    #: Keys of members the server reports as removed (404).
    removed: tuple[str, ...] = ()
    #: The raw hrefs of the removed members, in the same order.
    removed_hrefs: tuple[str, ...] = ()
    token: str | None = None
    #: RFC 6578 §3.6: a 507 on the request-URI; ask again from `token` for the rest.
    truncated: bool = False
    #: Responses that are neither (another status on a member): counted, never guessed at.
    other: int = 0


def member_key(base_url: str, href: str) -> str:
    """The decoded absolute path of `href` (servers send paths or full URLs, escaped or not),
    so the same member always has the same key."""
    path = urlsplit(urljoin(base_url, href.strip())).path
    return unquote(path) or "/"


def _collection_key(base_url: str) -> str:
    return member_key(base_url, base_url).rstrip("/")


def status_code(text: str | None) -> int | None:
    """200 from "HTTP/1.1 200 OK"; None when it is not a status line."""
    found = _STATUS_LINE.match(text or "")
    return int(found.group(1)) if found else None


def parse_xml(body: bytes) -> Element:
    """A document parsed without DTDs, entities or external references."""
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=True)
    except (ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise MalformedPayloadError(
            f"CalDAV answer is not safe XML: {type(exc).__name__}"
        ) from None
    return root


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    return "".join(element.itertext())


def _props(response: Element) -> tuple[bool, str | None, str | None]:
    """(has a propstat, etag, calendar data) from the propstats with status 200."""
    propstats = response.findall(f"{_D}propstat")
    etag: str | None = None
    data: str | None = None
    for propstat in propstats:
        if status_code(_text(propstat.find(f"{_D}status"))) != 200:
            continue
        prop = propstat.find(f"{_D}prop")
        if prop is None:
            continue
        etag = etag or (_text(prop.find(f"{_D}getetag")) or "").strip() or None
        found = _text(prop.find(f"{_C}calendar-data"))
        data = data or (found if found and found.strip() else None)
    return bool(propstats), etag, data


def parse_multistatus(body: bytes, base_url: str) -> Multistatus:
    """Read a sync-collection or calendar-multiget answer for the collection at `base_url`.

    The collection itself is never a member: iCloud lists it (with an etag) among the
    changes, and a 507 on it is the truncation marker.
    """
    root = parse_xml(body)
    if root.tag != f"{_D}multistatus":
        raise MalformedPayloadError("CalDAV answer is not a DAV:multistatus")
    collection = _collection_key(base_url)
    members: list[Member] = []
    removed: list[str] = []
    removed_hrefs: list[str] = []
    truncated = False
    other = 0
    for response in root.findall(f"{_D}response"):
        href = (_text(response.find(f"{_D}href")) or "").strip()
        if not href:
            other += 1
            continue
        key = member_key(base_url, href)
        status = status_code(_text(response.find(f"{_D}status")))
        if key.rstrip("/") == collection:
            truncated = truncated or status == 507
            continue
        has_propstat, etag, data = _props(response)
        if status == 404 and not has_propstat:
            removed.append(key)
            removed_hrefs.append(href)
        elif has_propstat and status is None:
            members.append(Member(href=href, key=key, etag=etag, calendar_data=data))
        else:
            other += 1
    token = (_text(root.find(f"{_D}sync-token")) or "").strip() or None
    return Multistatus(
        members=tuple(members),
        removed=tuple(removed),
        removed_hrefs=tuple(removed_hrefs),
        token=token,
        truncated=truncated,
        other=other,
    )


def has_precondition(body: bytes, name: str, namespace: str = DAV_NS) -> bool:
    """Whether an error body (RFC 4918 §16: DAV:error) names the precondition `name`."""
    if not body.strip():
        return False
    try:
        root = parse_xml(body)
    except MalformedPayloadError:
        return False
    wanted = "{" + namespace + "}" + name
    return any(element.tag == wanted for element in root.iter())
