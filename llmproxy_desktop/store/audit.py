"""Making audit details safe to store: JSON-shaped and free of secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.items import REDACTED, JSONValue, Secret
from ..core.secrets import has_embedded_password, is_literal, looks_secret_key


def _scrub(value: JSONValue, key: str | None) -> JSONValue:
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, key) for v in value]
    if isinstance(value, str):
        # A caller may pass raw item data as detail; a literal under a secret-looking key or a
        # URL with a password is treated as a secret, because the audit log is never encrypted.
        if key is not None and looks_secret_key(key) and is_literal(value):
            return REDACTED
        if has_embedded_password(value):
            return REDACTED
    return value


def scrub_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an audit `detail` with every Secret and secret-looking literal replaced by ***."""
    if not isinstance(detail, Mapping):
        raise TypeError(f"audit detail must be a mapping, not {type(detail).__name__}")
    scrubbed = _scrub(detail, None)
    assert isinstance(scrubbed, dict)
    return scrubbed
