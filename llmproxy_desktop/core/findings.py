"""Validation findings: what is wrong, where, how bad, in a sentence for a human."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # blocks Apply
    WARNING = "warning"  # shown, does not block


@dataclass(frozen=True)
class Finding:
    """One problem. `rule` is a stable id (e.g. `routing.strategy-invalid`); `path` points into
    the config (e.g. `router_settings.routing_strategy`, `model_list[3].litellm_params.api_key`)."""

    rule: str
    severity: Severity
    path: str
    message: str

    def line(self) -> str:
        """One tab-separated line for terminals and logs; control characters that came from
        the config (a key with a newline or tab) are escaped so they cannot forge lines."""
        path = _one_line(self.path) or "-"
        return f"{self.rule}\t{self.severity.value}\t{path}\t{_one_line(self.message)}"


def _one_line(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding blocks Apply."""
    return any(f.severity is Severity.ERROR for f in findings)
