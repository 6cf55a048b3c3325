"""Drift: does the stack's config.yaml still say what the Master last applied? (issue 4 §2, §1.5)

`check_drift` compares the file's SHA-256 with the revisions the Master recorded and classifies:

- IN_SYNC         the file is the last applied revision.
- FOLD_PENDING    the file is exactly what the current Master renders (applied overlaid by staged)
                  but no recorded revision explains it: an Apply replaced the file (its commit
                  point) and then failed to record the revision (issue 4 §1 step 5). Offer
                  "finish" (`finish_pending_apply`: record it now) or "re-render" (`rerender`).
- OLDER_REVISION  the file is an older applied revision (e.g. someone restored a backup).
- EDITED_BY_HAND  revisions exist but none, nor the Master's render, matches: a unified diff
                  shows the last applied revision against the file, secrets redacted on both sides.
- UNKNOWN_FILE    there is no file, or the Master never applied anything and does not render it.

Nothing here writes the file itself: re-rendering is a normal Apply (`ops.apply.apply`), so it
has the same lock, validation, atomic write, fold, restart and verify as any other Apply.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Final

from sqlalchemy import Engine

from ..core.items import (
    REDACTED,
    SETTING_SECTIONS,
    EffectiveItem,
    Flag,
    Item,
    ItemKey,
    JSONValue,
    Secret,
    live_items,
)
from ..core.render import render
from ..core.secrets import (
    has_embedded_password,
    is_auth_header_value,
    is_literal_secret,
    looks_secret_key,
    mask_url_password,
)
from ..core.yamltext import decode_config_bytes, dump_yaml, parse_yaml
from ..store import Actor, Master, StoreError
from .apply import ApplyResult, CancelToken, Progress, apply
from .apply_lock import apply_lock
from .apply_target import ApplyTarget, ConfigFile
from .drift_report import DriftAction, DriftReport, DriftState

__all__ = [
    "DriftAction",
    "DriftReport",
    "DriftState",
    "NotFoldPending",
    "apply_summary",
    "check_drift",
    "finish_pending_apply",
    "redact_config_text",
    "rerender",
    "secret_literals",
]

_APPLIED_LABEL: Final = "applied/config.yaml"
_REMOTE_LABEL: Final = "server/config.yaml"
_MASTER_LABEL: Final = "master/config.yaml"
_RENDER_ATTEMPTS: Final = 3
# Vault literals shorter than this are not searched for in the file's text: masking every "1" or
# "on" would mangle the diff, and such values are not secrets worth the name.
_MIN_MASKED_LITERAL: Final = 4
_NOT_THE_MASTERS: Final = f"{REDACTED} (not the Master's value)"
# `key: value` / `- key: value` on one line, for the fallback when the file is not valid YAML.
_KEY_VALUE_LINE: Final = re.compile(r"^(\s*(?:-\s+)?[\"']?([^\s:\"'#]+)[\"']?\s*:\s*)(\S.*)$")
# An auth header's credential inside a line, e.g. in a flow mapping `{Authorization: Bearer x}`.
_AUTH_IN_LINE: Final = re.compile(r"\b(Bearer|Basic|Token)\s+[^\s,}\]\"']+", re.IGNORECASE)


class NotFoldPending(StoreError):
    """`finish_pending_apply` was asked to record a file that is not a pending Apply's."""

    def __init__(self, report: DriftReport) -> None:
        self.report = report
        super().__init__(
            f"There is no unfinished Apply to record: {report.sentence()} Nothing was recorded."
        )


# ------------------------------------------------------------------------------- the check


def check_drift(master: Master, config_file: ConfigFile) -> DriftReport:
    """Classify the remote config.yaml against the Master's revisions and its current render.

    In sync is decided from hashes alone, so it needs neither the vault nor the items. Every
    other state reads the effective items, which raises VaultLocked when they hold secrets and
    the vault is locked (the UI asks for the passphrase, as it does before an Apply). Remote
    failures propagate as RemoteError.
    """
    data = config_file.read()
    revisions = master.revisions()
    last = revisions[0] if revisions else None
    if data is None:
        return DriftReport(DriftState.UNKNOWN_FILE, config_file.location, None, last)
    sha = hashlib.sha256(data).hexdigest()
    if last is not None and sha == last.rendered_sha256:
        return DriftReport(DriftState.IN_SYNC, config_file.location, sha, last, last)

    effective = master.effective()
    staged = sum(1 for e in effective if e.flag is not None)
    live = live_items(effective)
    # Compared as bytes, exactly as Apply's no-op test does: the fold would record this hash.
    if data == render(live).encode("utf-8"):
        # Checked before OLDER_REVISION on purpose: after "restore revision N" the staged state
        # renders to N's bytes, and an interrupted Apply of it must be finished, not re-applied.
        return DriftReport(
            DriftState.FOLD_PENDING, config_file.location, sha, last, staged_count=staged
        )
    older = next((r for r in revisions if r.rendered_sha256 == sha), None)
    if older is not None and last is not None:
        diff = _unified(
            master.revision(last.id).rendered_yaml_redacted,
            master.revision(older.id).rendered_yaml_redacted,
            f"revision-{last.id}/config.yaml",
            f"revision-{older.id}/config.yaml",
        )
        return DriftReport(
            DriftState.OLDER_REVISION, config_file.location, sha, last, older, diff, staged
        )

    # The file's text, redacted. Vault literals of what was applied and what is staged are masked
    # wherever they appear, not only under secret-looking keys: a hand edit may have moved one.
    known = secret_literals(e.item for e in effective)
    if last is not None:
        known |= secret_literals(master.revision_items(last.id))
    remote = redact_config_text(data, known)
    if last is None:
        diff = _unified(render(live, redact=True), remote, _MASTER_LABEL, _REMOTE_LABEL)
        return DriftReport(
            DriftState.UNKNOWN_FILE, config_file.location, sha, None, None, diff, staged
        )
    applied = master.revision(last.id).rendered_yaml_redacted
    diff = _unified(applied, remote, _APPLIED_LABEL, _REMOTE_LABEL)
    return DriftReport(
        DriftState.EDITED_BY_HAND, config_file.location, sha, last, None, diff, staged
    )


def redact_config_text(data: bytes, known_secrets: Iterable[str] = ()) -> str:
    """The file as previews may show it: every secret as ***.

    Valid YAML is parsed and dumped by the same emitter as `render`, redacted by the same rules as
    `render(..., redact=True)` (secret-looking keys, URL passwords, auth headers), so both sides
    of a diff are written alike and only real differences show; comments do not survive this.
    A literal under a secret key that is none of `known_secrets` (what the Master holds) shows as
    `*** (not the Master's value)`, so a hand-typed key is visible as a change without being
    shown. Text that does not parse is masked line by line instead. In both, any of
    `known_secrets` is masked wherever it appears.
    """
    literals = sorted(
        {s for s in known_secrets if len(s) >= _MIN_MASKED_LITERAL}, key=len, reverse=True
    )
    text, problem = decode_config_bytes(data)
    if text is None:
        assert problem is not None
        return f"# {problem.message}\n"
    parsed = parse_yaml(text)
    if parsed.usable and isinstance(parsed.value, dict):
        known = frozenset(known_secrets)
        shown = {k: _redacted(k, v, known, literals) for k, v in parsed.value.items()}
        return dump_yaml(shown)
    return "".join(_mask_line(line, literals) for line in text.splitlines(keepends=True))


def secret_literals(items: Iterable[Item]) -> set[str]:
    """What the Master holds as secrets: vault literals, and literals under secret-looking keys
    (an imported literal stays literal outside credential_list and is redacted all the same)."""
    found: set[str] = set()

    def walk(value: JSONValue, secret_key: bool) -> None:
        if isinstance(value, Secret):
            found.add(value.reveal())
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, secret_key or (isinstance(k, str) and _is_secret_key(k)))
        elif isinstance(value, list):
            for v in value:
                walk(v, secret_key)
        elif secret_key and is_literal_secret(value):
            found.add(str(value))

    for item in items:
        walk(item.data, item.kind in SETTING_SECTIONS and _is_secret_key(item.name))
    return found


def _is_secret_key(key: str) -> bool:
    # The rule of yamltext's redaction, so the file's side is masked where the render's is.
    return looks_secret_key(key) or "webhook" in key.lower()


def _redacted(
    key: object, value: JSONValue, known: frozenset[str], literals: list[str]
) -> JSONValue:
    if isinstance(key, str) and _is_secret_key(key):
        return _secret_subtree(value, known)
    if isinstance(value, dict):
        return {k: _redacted(k, v, known, literals) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(key, v, known, literals) for v in value]
    if is_auth_header_value(value):
        return REDACTED
    if isinstance(value, str):
        if has_embedded_password(value):
            value = mask_url_password(value)
        return _masked_text(value, literals)
    return value


def _secret_subtree(value: JSONValue, known: frozenset[str]) -> JSONValue:
    """Every literal leaf under a secret key: *** if the Master holds it, else marked changed."""
    if isinstance(value, dict):
        return {k: _secret_subtree(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_secret_subtree(v, known) for v in value]
    if is_literal_secret(value):
        return REDACTED if str(value) in known else _NOT_THE_MASTERS
    return value


def _masked_text(text: str, literals: list[str]) -> str:
    for literal in literals:  # longest first, so a literal containing another is masked whole
        text = text.replace(literal, REDACTED)
    return text


def _mask_line(line: str, literals: list[str]) -> str:
    ending = line[len(line.rstrip("\r\n")) :]
    body = _masked_text(line[: len(line) - len(ending)], literals)
    match = _KEY_VALUE_LINE.match(body)
    if match is not None:
        prefix, key, value = match.groups()
        if looks_secret_key(key) or "webhook" in key.lower():
            return f"{prefix}{REDACTED}{ending}"
        if is_auth_header_value(value.strip("\"' ")):
            return f"{prefix}{REDACTED}{ending}"
    # A URL password or a header credential can sit anywhere in a line (a list, a flow mapping).
    body = _AUTH_IN_LINE.sub(lambda m: f"{m.group(1)} {REDACTED}", body)
    words = [mask_url_password(w) if has_embedded_password(w) else w for w in body.split(" ")]
    return " ".join(words) + ending


def _unified(before: str, after: str, before_label: str, after_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            before_label,
            after_label,
        )
    )


# ------------------------------------------------------------------------------- the offers


def rerender(
    master: Master,
    target: ApplyTarget,
    *,
    progress: Progress,
    cancel: CancelToken,
    actor: Actor,
    verify_timeout: float = 90.0,
    lock_wait: float = 0.0,
) -> ApplyResult:
    """Overwrite a drifted file with the Master: exactly a normal Apply, nothing less.

    Staged changes, if any, are dispatched with it (the UI says so before the admin confirms).
    With nothing staged, the Apply still writes, records a revision (summary "0 new, 0 changed,
    0 deleted"), restarts and verifies, because the file differs from the render.
    """
    return apply(
        master,
        target,
        progress=progress,
        cancel=cancel,
        actor=actor,
        verify_timeout=verify_timeout,
        lock_wait=lock_wait,
    )


def finish_pending_apply(
    master: Master, config_file: ConfigFile, actor: Actor, *, lock_engine: Engine
) -> int:
    """Record the revision an interrupted Apply did not record; return its id.

    Runs under the stack's Apply lock (on `lock_engine`, the Master's engine, as for an Apply),
    so no Apply can replace the file between the check and the fold; ApplyLocked if one runs.
    Refuses with NotFoldPending unless the file is FOLD_PENDING at that moment. The fold folds
    exactly the staged versions that were rendered (StagingConflict if another admin staged in
    between) and records the file's own SHA-256, with the summary the Apply would have written.
    LiteLLM is not restarted here (this takes no Docker control): the interrupted Apply skipped its
    restart, so the UI offers one next; until then a later no-op Apply's verify names the groups
    LiteLLM does not serve yet.
    """
    with apply_lock(lock_engine, master.schema, actor):
        report = check_drift(master, config_file)
        if report.state is not DriftState.FOLD_PENDING:
            raise NotFoldPending(report)
        effective, staged = _consistent_effective(master)
        live = live_items(effective)
        text = render(live)
        data = config_file.read()
        if data != text.encode("utf-8"):
            # Staging changed after the check; what is on disk is no longer this render.
            raise NotFoldPending(check_drift(master, config_file))
        return master.fold(
            apply_summary(effective),
            render(live, redact=True),
            hashlib.sha256(data).hexdigest(),
            actor,
            staged,
        )


def apply_summary(effective: Iterable[EffectiveItem]) -> str:
    """The revision summary an Apply records: "N new, N changed, N deleted"."""
    flags = Counter(e.flag for e in effective if e.flag is not None)
    return f"{flags[Flag.NEW]} new, {flags[Flag.CHANGED]} changed, {flags[Flag.DELETED]} deleted"


class _StagingBusy(StoreError):
    def __init__(self) -> None:
        super().__init__("Other admins kept staging changes; nothing was recorded. Try again.")


def _consistent_effective(master: Master) -> tuple[list[EffectiveItem], dict[ItemKey, int]]:
    """The effective items and the staged versions they were read with (two transactions, so
    re-read until staging did not change in between, as Apply does)."""
    for _ in range(_RENDER_ATTEMPTS):
        before = master.staged_versions()
        effective = master.effective()
        if master.staged_versions() == before:
            return effective, before
    raise _StagingBusy
