"""Per-stack secrets in the OS keyring, saved only when the admin opts in.

Entries: service "llmproxy-desktop", username "<stack>:<kind>" (kind from SecretKind; kinds
contain no ':', so no two stacks' entries can collide). Callers call `save` only after an
explicit "remember" choice; nothing here saves on its own.

Safety rule: secrets go only to a keyring that protects them. When the active backend is the
fail backend (no keyring), the null backend (discards), anything from keyrings.alt (plaintext
files, non-recommended stores) or any backend keyring itself ranks below 1, `save` refuses with
KeyringUnsafe and `get` answers None: the app asks each time instead of silently writing a
plaintext file (keyrings.alt, when merely installed, is selected without a word:
desktop-conventions §4). When keyring chains several backends, the best safe one among them is
used directly, so an unsafe store in the chain is never read from or written to.

Values never appear in logs, reprs or exception messages. Keyring calls are serialised with a
lock: the Secret Service client is not thread-safe and the GUI calls from worker threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import keyring
import keyring.backend
import keyring.errors

from .errors import Layer, RemoteError
from .profiles import SecretKind

SERVICE = "llmproxy-desktop"
_FAIL_BACKEND = "keyring.backends.fail.Keyring"
_NULL_BACKEND = "keyring.backends.null.Keyring"
_CHAINER_BACKEND = "keyring.backends.chainer.ChainerBackend"
# Backends that keep secrets in a file readable by anything running as the user, or nowhere.
# keyrings.alt's own documentation calls its backends "less secure" alternatives.
_UNSAFE_BACKENDS = frozenset({_FAIL_BACKEND, _NULL_BACKEND})
_UNSAFE_PACKAGES = ("keyrings.alt",)
# keyring ranks its recommended OS stores at 1 or more; below that is "works, not recommended".
_MIN_SAFE_PRIORITY = 1.0
_LOCK = threading.Lock()


class KeyringError(RemoteError):
    """The keyring failed (locked, D-Bus gone, …). Never holds a secret value."""

    layer = Layer.KEYRING


class KeyringUnsafe(KeyringError):
    """Saving was refused because no safe keyring is available; the message says so plainly."""


@dataclass(frozen=True)
class KeyringStatus:
    """The start-up self-check: which backend is active, whether secrets can be saved safely,
    and a sentence for the admin."""

    backend_name: str  # dotted class path, as PYTHON_KEYRING_BACKEND takes it
    secure: bool
    message: str


def keyring_status(backend: Any | None = None) -> KeyringStatus:
    """Check the active keyring backend (or `backend`) and say whether secrets can be saved."""
    active = backend if backend is not None else _active_backend()
    _usable, status = _assess(active)
    return status


def backend_path(backend: object) -> str:
    """A backend's dotted class path, e.g. keyring.backends.SecretService.Keyring."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


class KeyringSecrets:
    """Save, read and forget one stack's secrets. `backend` is for tests; by default the
    backend keyring selects (PYTHON_KEYRING_BACKEND, or the best viable one)."""

    def __init__(self, backend: Any | None = None) -> None:
        self._backend = backend
        # Assessed once: a Secret Service backend probes D-Bus each time its priority is read.
        # A long-lived caller that wants a fresh check makes a new instance.
        self._assessment: tuple[Any | None, KeyringStatus] | None = None

    def status(self) -> KeyringStatus:
        """The self-check for this instance's backend."""
        return self._assessed()[1]

    def save(self, stack: str, kind: SecretKind, value: str) -> None:
        """Store `value` for `stack` (call only on the admin's explicit opt-in). Raises
        KeyringUnsafe when no safe keyring is available, KeyringError when the keyring fails."""
        if not isinstance(value, str) or not value:
            raise KeyringError(f"nothing to save for the {kind.label} of {stack!r}: it is empty")
        usable, status = self._assessed()
        if usable is None:
            raise KeyringUnsafe(f"Not saved: {status.message}")
        with _LOCK:
            try:
                usable.set_password(SERVICE, _username(stack, kind), value)
            except Exception as exc:
                raise KeyringError(
                    f"the keyring ({_friendly(usable)}) did not save the {kind.label} of "
                    f"{stack!r}: {_reason(exc, value)}"
                ) from None

    def get(self, stack: str, kind: SecretKind) -> str | None:
        """The saved secret, or None when none is saved or no safe keyring is available (then
        nothing was saved here, and an unsafe store is not read)."""
        usable, _status = self._assessed()
        if usable is None:
            return None
        with _LOCK:
            try:
                found = usable.get_password(SERVICE, _username(stack, kind))
            except Exception as exc:
                raise KeyringError(
                    f"the keyring ({_friendly(usable)}) did not give the {kind.label} of "
                    f"{stack!r}: {_reason(exc)}"
                ) from None
        return found if isinstance(found, str) else None

    def saved_kinds(self, stack: str) -> tuple[SecretKind, ...]:
        """Which of the stack's secrets are saved (values are read but not returned)."""
        return tuple(kind for kind in SecretKind if self.get(stack, kind) is not None)

    def delete(self, stack: str, kind: SecretKind) -> bool:
        """Remove one saved secret; True if it was there. Raises KeyringUnsafe when no safe
        keyring is reachable (the secret, if saved from another session, stays there)."""
        usable, status = self._assessed()
        if usable is None:
            raise KeyringUnsafe(
                f"Cannot remove the {kind.label} of {stack!r} now: {status.message}"
            )
        with _LOCK:
            try:
                usable.delete_password(SERVICE, _username(stack, kind))
            except keyring.errors.PasswordDeleteError:
                return False  # keyring's way of saying there was no such entry
            except Exception as exc:
                raise KeyringError(
                    f"the keyring ({_friendly(usable)}) did not remove the {kind.label} of "
                    f"{stack!r}: {_reason(exc)}"
                ) from None
        return True

    def forget_stack(self, stack: str) -> tuple[SecretKind, ...]:
        """Remove every secret of `stack`; returns the kinds that were there. Raises
        KeyringUnsafe when no safe keyring is reachable: secrets saved earlier from a session
        that had one (say, the desktop) cannot be reached from here."""
        usable, status = self._assessed()
        if usable is None:
            raise KeyringUnsafe(
                f"No safe keyring is reachable here ({status.backend_name}); secrets of "
                f"{stack!r} saved from another session, if any, are still there."
            )
        return tuple(kind for kind in SecretKind if self.delete(stack, kind))

    def _assessed(self) -> tuple[Any | None, KeyringStatus]:
        if self._assessment is None:
            active = self._backend if self._backend is not None else _active_backend()
            self._assessment = _assess(active)
        return self._assessment


def _active_backend() -> Any:
    with _LOCK:
        return keyring.get_keyring()


def _username(stack: str, kind: SecretKind) -> str:
    return f"{stack}:{kind.value}"


def _friendly(backend: object) -> str:
    name = getattr(backend, "name", None)
    return name if isinstance(name, str) and name else backend_path(backend)


def _priority(backend: object) -> float | None:
    """keyring's priority, or None when the backend says it is not usable here (keyring's
    backends raise from `priority` when, e.g., no D-Bus session is running)."""
    try:
        value = getattr(backend, "priority", None)
    except Exception:
        return None
    return float(value) if isinstance(value, int | float) else None


def _unsafe_reason(backend: object) -> str | None:
    """Why `backend` must not hold secrets, or None when it may."""
    path = backend_path(backend)
    if path == _FAIL_BACKEND:
        return "no system keyring is available"
    if path == _NULL_BACKEND:
        return "the active keyring discards everything"
    if path in _UNSAFE_BACKENDS or path.startswith(tuple(p + "." for p in _UNSAFE_PACKAGES)):
        return f"the only keyring available, {_friendly(backend)}, keeps secrets in a plain file"
    priority = _priority(backend)
    if priority is None:
        return f"the keyring {_friendly(backend)} is not usable here"
    if priority < _MIN_SAFE_PRIORITY:
        return (
            f"the only keyring available, {_friendly(backend)}, is not a recommended secure "
            "store (it may keep secrets unencrypted)"
        )
    return None


def _assess(active: Any) -> tuple[Any | None, KeyringStatus]:
    """The backend to use (None when none is safe) and the status sentence."""
    candidates = [active]
    if backend_path(active) == _CHAINER_BACKEND:
        chained = list(getattr(active, "backends", []))
        candidates = sorted(chained, key=lambda b: _priority(b) or 0.0, reverse=True) or [active]
    for candidate in candidates:
        if _unsafe_reason(candidate) is None:
            via = " via keyring's chainer" if candidate is not active else ""
            return candidate, KeyringStatus(
                backend_name=backend_path(candidate),
                secure=True,
                message=(
                    f"Secrets you choose to remember are kept in {_friendly(candidate)}"
                    f"{via} ({backend_path(candidate)})."
                ),
            )
    reason = _unsafe_reason(candidates[0]) or "no safe keyring is available"
    return None, KeyringStatus(
        backend_name=backend_path(candidates[0]),
        secure=False,
        message=(
            f"{reason[0].upper()}{reason[1:]} ({backend_path(candidates[0])}). Secrets cannot "
            "be saved safely; the app will ask for them each time."
        ),
    )


def _reason(exc: BaseException, value: str | None = None) -> str:
    """One line from a backend's exception, with the value masked should a backend echo it."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if value:
        text = text.replace(value, "***")
    text = text[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
