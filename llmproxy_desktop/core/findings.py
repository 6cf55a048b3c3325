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
        """One line for terminals and logs."""
        return f"{self.rule}\t{self.severity.value}\t{self.path or '-'}\t{self.message}"


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding blocks Apply."""
    return any(f.severity is Severity.ERROR for f in findings)
