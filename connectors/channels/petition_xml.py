"""The provincial petition system's XML, parsed as untrusted input.

defusedxml refuses DTDs, entity declarations and external references, so
neither entity expansion nor external entities can reach us. A petition
element becomes ``{local name: text}``, nested for groups (``XFR``, ``BFYDW``);
CDATA is plain text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from schemas.vocabulary import PROVINCIAL_XML_NAMESPACE

NAMESPACE = PROVINCIAL_XML_NAMESPACE
# The contract nests 3 deep (QueryResult/Petition/XFR/XM); converting and serialising
# are recursive, so deeper documents are refused before either runs.
MAX_DEPTH = 32
ET.register_namespace("xf", NAMESPACE)


class UnsafeXmlError(ValueError):
    """The document declares a DTD, entities or external references, or nests absurdly deep."""


class XmlSyntaxError(ValueError):
    """The document is not well-formed XML (e.g. truncated)."""


@dataclass(frozen=True)
class TooMany:
    """``<xf:Error code="TOO_MANY" limit="500"/>``: the window must be narrowed."""

    limit: int | None


@dataclass(frozen=True)
class UpstreamError:
    """Another ``<xf:Error>`` answer."""

    code: str


@dataclass(frozen=True)
class PetitionElement:
    """One ``<xf:Petition>``: its fields and its serialised text."""

    fields: dict[str, Any]
    text: str


def local(tag: str) -> str:
    """Local part of a ``{namespace}name`` tag."""
    return tag.rsplit("}", 1)[-1]


def _depth(root: ET.Element) -> int:
    """How deep elements nest below ``root`` (root alone is 1), counted without recursion."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:  # deeper is refused anyway: stop counting there
            stack.extend((child, depth + 1) for child in element)
    return deepest


def to_fields(element: ET.Element) -> dict[str, Any]:
    """Child elements as ``{local name: text}``, nested dicts for groups."""
    fields: dict[str, Any] = {}
    for child in element:
        if len(child):
            fields[local(child.tag)] = to_fields(child)
        else:
            fields[local(child.tag)] = (child.text or "").strip()
    return fields


def parse_query_result(body: bytes) -> list[PetitionElement] | TooMany | UpstreamError:
    """The petitions of a ``QueryResult``, or the ``Error`` the upstream answered."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXmlError(type(exc).__name__) from None
    except ET.ParseError as exc:
        raise XmlSyntaxError(str(exc)) from None
    except LookupError:  # <?xml encoding="..."?> names an encoding Python does not know
        raise XmlSyntaxError("unknown encoding in the XML declaration") from None
    if _depth(root) > MAX_DEPTH:
        raise UnsafeXmlError(f"elements nested deeper than {MAX_DEPTH}")
    if local(root.tag) == "Error":
        code = root.get("code", "")
        if code == "TOO_MANY":
            limit = root.get("limit")
            return TooMany(int(limit) if limit and limit.isdecimal() and len(limit) < 10 else None)
        return UpstreamError(code)
    if local(root.tag) != "QueryResult":
        raise XmlSyntaxError(f"unexpected root element {local(root.tag)}")
    return [
        PetitionElement(to_fields(el), ET.tostring(el, encoding="unicode"))
        for el in root
        if local(el.tag) == "Petition"
    ]
