"""The OpenAPI document of the admin API (``openapi.yaml`` next to this module)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def openapi_document() -> dict[str, Any]:
    """The parsed OpenAPI 3.1 document, as served at ``/openapi.json``."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document
