"""The Caching page: the cache settings as the config sets them, and whether LiteLLM's cache
answers (its /cache/ping), with what to fix when it does not.

Read-only. The settings come from the effective items merged exactly as Apply renders them
(`core.render.build_config`: managed litellm_settings over the passthrough's), so what is shown is
what LiteLLM would read. Secrets show as ***; os.environ/ references as written, since they name
where the value comes from and are not secret themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.items import (
    REDACTED,
    EffectiveItem,
    ItemKind,
    JSONValue,
    Secret,
    is_env_reference,
    live_items,
)
from llmproxy_desktop.core.render import build_config
from llmproxy_desktop.core.secrets import (
    has_embedded_password,
    is_literal_secret,
    looks_secret_key,
    mask_secret_value,
    mask_url_password,
    redact,
)
from llmproxy_desktop.remote.litellm_status import CacheStatus
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    TextStyle,
    staged_accent,
    status_colour,
    text_font,
)

CACHE_KEYS: Final = ("cache", "cache_params")
NOT_CHECKED_TEXT: Final = "Not checked yet. Refresh to ask LiteLLM."
ENABLE_HINT: Final = (
    "To turn caching on, set cache: true and cache_params (type: redis, host, port, password "
    "as os.environ/REDIS_PASSWORD) under litellm_settings on the Advanced page, then Apply."
)
_REACH_WORDS: Final = (
    "connection refused",
    "error 111",
    "timed out",
    "timeout",
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "no route to host",
    "connection reset",
    "error -2",
    "error -3",
    "connecterror",
    "connection error",
)
_AUTH_WORDS: Final = (
    "noauth",
    "wrongpass",
    "invalid password",
    "authentication",
    "invalid username-password",
    "auth",
)
# Displayed in this order; any other cache_params key follows, sorted.
_KNOWN_PARAMS: Final = (
    ("type", "Type"),
    ("host", "Host"),
    ("port", "Port"),
    ("password", "Password"),
    ("ttl", "Time to live"),
    ("namespace", "Namespace"),
)


@dataclass(frozen=True)
class CacheSettings:
    """The cache settings LiteLLM would read, display-ready (secrets already masked)."""

    enabled: bool
    cache_type: str  # what LiteLLM builds, "redis" when cache_params is absent
    rows: tuple[tuple[str, str], ...]  # (label, shown value)
    host: str | None  # for hints: the host as written, or None (from REDIS_HOST)
    port: str | None
    staged: bool = False  # a cache setting is staged and not applied yet
    secrets: frozenset[str] = field(default=frozenset(), repr=False)  # to mask in LiteLLM's text


@dataclass(frozen=True)
class PingView:
    """What the status line says: a headline, what to do, and its colour (None: neutral)."""

    headline: str
    hint: str = ""
    tone: StatusColour | None = None


# ------------------------------------------------------------------------------ pure parts


_SHAPES_SETTINGS: Final = frozenset({ItemKind.LITELLM_SETTING, ItemKind.PASSTHROUGH})


def cache_settings(effective: Sequence[EffectiveItem]) -> CacheSettings:
    """The cache settings of the config Apply would render from `effective`."""
    # Only settings and the passthrough can shape litellm_settings: leaving models and
    # credentials out keeps this cheap for a 2,000-model stack (it runs on every refresh).
    config = build_config(live_items(e for e in effective if e.item.kind in _SHAPES_SETTINGS))
    section = config.get("litellm_settings")
    settings: Mapping[str, Any] = section if isinstance(section, Mapping) else {}
    raw_params = settings.get("cache_params")
    params: Mapping[str, Any] = raw_params if isinstance(raw_params, Mapping) else {}
    # Mirrors core.validate: no cache_params → redis from REDIS_* variables; params without a
    # type → LiteLLM's in-memory cache.
    cache_type = params.get("type", "redis" if not params else "local")
    enabled = settings.get("cache") is True
    rows = [("Caching", "On" if enabled else "Off")]
    rows += _param_rows(params, str(cache_type))
    staged = any(
        e.flag is not None and e.item.kind is ItemKind.LITELLM_SETTING and e.item.name in CACHE_KEYS
        for e in effective
    )
    return CacheSettings(
        enabled=enabled,
        cache_type=str(cache_type),
        rows=tuple(rows),
        host=_plain(params.get("host")),
        port=_plain(params.get("port")),
        staged=staged,
        secrets=frozenset(_secret_literals(params)),
    )


def _param_rows(params: Mapping[str, Any], cache_type: str) -> list[tuple[str, str]]:
    from_env = cache_type == "redis" or not params
    defaults = {
        "type": "redis (LiteLLM's default without cache_params)" if not params else "local",
        "host": "From REDIS_HOST in the stack's .env" if from_env else "—",
        "port": "From REDIS_PORT in the stack's .env" if from_env else "—",
        "password": "From REDIS_PASSWORD in the stack's .env, if set" if from_env else "—",
        "ttl": "LiteLLM's default",
        "namespace": "None (keys are not prefixed)",
    }
    rows = [
        (label, shown_value(key, params[key]) if key in params else defaults[key])
        for key, label in _KNOWN_PARAMS
    ]
    known = {key for key, _ in _KNOWN_PARAMS}
    rows += [
        (str(k), shown_value(str(k), params[k])) for k in sorted(params, key=str) if k not in known
    ]
    return rows


def shown_value(key: str, value: JSONValue) -> str:
    """A setting as the page shows it: secrets as ***, os.environ/ references as written."""
    if isinstance(value, Secret):
        return REDACTED
    if is_env_reference(value):
        return str(value)
    if looks_secret_key(key) or "webhook" in key.lower():
        value = mask_secret_value(value)
    if isinstance(value, str):
        return mask_url_password(value) if has_embedded_password(value) else value
    if isinstance(value, dict | list):
        return json.dumps(redact(_mask_nested(value)), default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _mask_nested(value: JSONValue) -> JSONValue:
    if isinstance(value, dict):
        return {
            k: mask_secret_value(v)
            if isinstance(k, str) and looks_secret_key(k)
            else _mask_nested(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_nested(v) for v in value]
    if isinstance(value, str) and has_embedded_password(value):
        return mask_url_password(value)
    return value


def _plain(value: object) -> str | None:
    if value is None or isinstance(value, Secret):
        return None
    return str(value)


def _secret_literals(params: Mapping[str, Any]) -> Iterable[str]:
    """Literal secrets in cache_params, to mask if LiteLLM's error text repeats one."""
    for key, value in params.items():
        if isinstance(value, Secret):
            yield value.reveal()
        elif isinstance(key, str) and looks_secret_key(key) and is_literal_secret(value):
            yield str(value)


def masked_detail(detail: str, secrets: Iterable[str]) -> str:
    """LiteLLM's explanation with URL passwords and any known secret shown as ***."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        detail = detail.replace(secret, REDACTED)
    words = [mask_url_password(w) if has_embedded_password(w) else w for w in detail.split(" ")]
    return " ".join(words)


def describe_ping(
    status: CacheStatus | None, error: str | None, settings: CacheSettings | None
) -> PingView:
    """The status line for a /cache/ping result, with a hint derived from what went wrong."""
    if error is not None:
        return PingView(
            "Could not ask LiteLLM about its cache.",
            f"{error} Check the connection to the stack, then refresh.",
            StatusColour.BAD,
        )
    if status is None:
        return PingView(NOT_CHECKED_TEXT)
    secrets = settings.secrets if settings else frozenset()
    detail = masked_detail(status.detail, secrets)
    if status.healthy:
        kind = status.cache_type or "cache"
        answer = f" ({detail})" if detail else ""
        return PingView(f"LiteLLM's {kind} cache answers{answer}.", tone=StatusColour.GOOD)
    if status.cache_type is None:
        return _disabled_view(settings)
    return PingView(
        f"LiteLLM's {status.cache_type} cache does not answer: {detail}",
        _failure_hint(detail, settings),
        StatusColour.BAD,
    )


def _disabled_view(settings: CacheSettings | None) -> PingView:
    if settings is not None and settings.enabled:
        when = (
            "The cache settings are staged: Apply them."
            if settings.staged
            else "Apply, or restart LiteLLM, so that it reads them."
        )
        return PingView(
            "The config turns caching on, but LiteLLM runs without a cache.",
            when,
            StatusColour.BAD,
        )
    return PingView("Caching is off: LiteLLM answers every request from the provider.", ENABLE_HINT)


def _failure_hint(detail: str, settings: CacheSettings | None) -> str:
    lowered = detail.lower()
    where = _where(settings)
    if any(word in lowered for word in _REACH_WORDS):
        return (
            f"LiteLLM cannot reach Valkey at {where}: check REDIS_HOST and REDIS_PORT in the "
            "stack's .env and that the valkey service is running."
        )
    if any(word in lowered for word in _AUTH_WORDS):
        return (
            f"Valkey at {where} refused LiteLLM's password: check REDIS_PASSWORD in the stack's "
            ".env matches the valkey service's password."
        )
    return (
        f"Check that the valkey service is running and that REDIS_HOST, REDIS_PORT and "
        f"REDIS_PASSWORD in the stack's .env point at it ({where})."
    )


def _where(settings: CacheSettings | None) -> str:
    host = settings.host if settings and settings.host else None
    port = settings.port if settings and settings.port else None
    host_text = _env_name(host) or host or "the host in REDIS_HOST"
    port_text = _env_name(port) or port or "REDIS_PORT"
    return f"{host_text}:{port_text}"


def _env_name(value: str | None) -> str | None:
    if value is not None and is_env_reference(value):
        return f"${value.split('/', 1)[1]}"
    return None


# ------------------------------------------------------------------------------ the page


class CachingPage(QWidget):
    """Cache settings (a form of read-only values) and LiteLLM's cache status with a hint."""

    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cachingPage")
        self._settings: CacheSettings | None = None
        self._status: CacheStatus | None = None
        self._error: str | None = None
        self._view = PingView(NOT_CHECKED_TEXT)
        self._build()
        self._show_ping()

    def _build(self) -> None:
        title = QLabel("Caching")
        title.setFont(text_font(TextStyle.TITLE_2))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_requested)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.refresh_button)
        self.status_label = QLabel()
        self.status_label.setFont(text_font(TextStyle.HEADLINE))
        self.status_label.setWordWrap(True)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        settings_title = QLabel("Settings")
        settings_title.setFont(text_font(TextStyle.HEADLINE))
        self.staged_label = QLabel("Staged: not applied yet.")
        self.staged_label.hide()
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addLayout(header)
        layout.addWidget(self.status_label)
        layout.addWidget(self.hint_label)
        layout.addSpacing(CONTROL_SPACING * 2)
        layout.addWidget(settings_title)
        layout.addWidget(self.staged_label)
        layout.addLayout(self.form)
        layout.addStretch(1)

    # ------------------------------------------------------------------ data

    def set_settings(self, effective: Sequence[EffectiveItem]) -> None:
        """Show the cache settings of these effective items."""
        self._settings = cache_settings(effective)
        while self.form.rowCount():
            self.form.removeRow(0)
        for label, value in self._settings.rows:
            shown = QLabel(value)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.addRow(f"{label}:", shown)
        self.staged_label.setVisible(self._settings.staged)
        self._show_ping()  # hints depend on the settings (host, port, enabled)

    def set_ping(self, status: CacheStatus | None, error: str | None) -> None:
        """Show LiteLLM's /cache/ping answer, or why it could not be asked."""
        self._status, self._error = status, error
        self._show_ping()

    def settings_rows(self) -> list[tuple[str, str]]:
        """(label, value) of the settings form as shown."""
        return list(self._settings.rows) if self._settings else []

    def ping_view(self) -> PingView:
        """What the status line says now."""
        return self._view

    # ------------------------------------------------------------------ drawing

    def _show_ping(self) -> None:
        self._view = describe_ping(self._status, self._error, self._settings)
        self.status_label.setText(self._view.headline)
        self.hint_label.setText(self._view.hint)
        self.hint_label.setVisible(bool(self._view.hint))
        self._paint_colours()

    def _paint_colours(self) -> None:
        base = self.palette()
        status = QPalette(base)
        if self._view.tone is not None:
            status.setColor(QPalette.ColorRole.WindowText, status_colour(self._view.tone, base))
        self.status_label.setPalette(status)
        staged = QPalette(base)
        staged.setColor(QPalette.ColorRole.WindowText, staged_accent(base))
        self.staged_label.setPalette(staged)

    def changeEvent(self, event: QEvent) -> None:
        """Follow light/dark mode."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._paint_colours()
