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

NAMESPACE = "http://xf.gd.gov.cn/schema/petition/1.0"
ET.register_namespace("xf", NAMESPACE)


class UnsafeXmlError(ValueError):
    """The document declares a DTD, entities or external references: refused unparsed."""


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
    if local(root.tag) == "Error":
        code = root.get("code", "")
        if code == "TOO_MANY":
            limit = root.get("limit")
            return TooMany(int(limit) if limit and limit.isdigit() else None)
        return UpstreamError(code)
    if local(root.tag) != "QueryResult":
        raise XmlSyntaxError(f"unexpected root element {local(root.tag)}")
    return [
        PetitionElement(to_fields(el), ET.tostring(el, encoding="unicode"))
        for el in root
        if local(el.tag) == "Petition"
    ]
