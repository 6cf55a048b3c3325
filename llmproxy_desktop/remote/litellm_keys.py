"""LiteLLM's virtual-key endpoints (`/key/*`, litellm 1.108.7), typed.

Built on `LiteLLMClient.admin_request`: the master key goes in the header only. A plaintext key
appears in exactly two answers (`generate`, `regenerate`) and is handed back once in a
`CreatedKey`; every other call names a key by its hash (`token`), so no plaintext key travels in
a URL or an access log. Error messages are turned into sentences with any echoed key masked.

Paths and shapes (read from litellm/proxy/management_endpoints/key_management_endpoints.py):
- GET  /key/list?page&size(<=100)&return_full_object=true[&search] → {keys, total_count,
  current_page, total_pages}; `search` matches the hash exactly or the alias as a
  case-insensitive substring.
- GET  /key/info?key=<hash> → {key, info}; `info` has no `token`.
- POST /key/generate → the row plus `key` (plaintext), `token` (hash), `key_name`.
- POST /key/update {key, ...}: given fields replace the stored ones (metadata whole).
- POST /key/block | /key/unblock {key}; POST /key/delete {keys: [...]} → {deleted_keys}.
- POST /key/regenerate {key, ...}: an Enterprise feature; without a licence LiteLLM refuses.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from llmproxy_desktop.core.virtual_keys import CreatedKey, KeyPage, VirtualKey, redact_keys

from .errors import LiteLLMError
from .litellm_client import LiteLLMClient

__all__ = ["PAGE_SIZE", "KeyRequestFailed", "LiteLLMKeys", "key_from_json", "parse_time"]

PAGE_SIZE: Final = 100  # LiteLLM's maximum for /key/list


class KeyRequestFailed(LiteLLMError):
    """LiteLLM answered a /key/* call with an error; the message is one sentence, keys masked.

    `status` is the HTTP status; `not_found` and `needs_enterprise` name the two answers the
    app treats specially."""

    def __init__(self, sentence: str, status: int, *, needs_enterprise: bool = False) -> None:
        self.status = status
        self.not_found = status == 404
        self.needs_enterprise = needs_enterprise
        super().__init__(sentence)

    def __str__(self) -> str:
        return str(self.args[0])


class LiteLLMKeys:
    """The /key/* calls on one stack's LiteLLM. Not thread-safe (nor is the client)."""

    def __init__(self, client: LiteLLMClient) -> None:
        self._client = client

    def list_page(self, page: int = 1, size: int = PAGE_SIZE, search: str | None = None) -> KeyPage:
        """One page of keys, newest first; `search` filters by alias (substring, any case)."""
        params: dict[str, Any] = {"page": page, "size": size, "return_full_object": "true"}
        if search:
            params["search"] = search
        body = self._call("GET", "/key/list", "list the keys", params=params)
        raw = body.get("keys")
        keys = tuple(
            key_from_json(entry)
            for entry in (raw if isinstance(raw, list) else [])
            if isinstance(entry, Mapping)
        )
        return KeyPage(
            keys=keys,
            total_count=_int(body.get("total_count")) or len(keys),
            page=_int(body.get("current_page")) or page,
            total_pages=_int(body.get("total_pages")) or 1,
        )

    def info(self, token: str) -> VirtualKey:
        """One key by its hash."""
        body = self._call("GET", "/key/info", "read the key", params={"key": token})
        info = body.get("info")
        if not isinstance(info, Mapping):
            raise LiteLLMError("LiteLLM's /key/info answer has no 'info' object.")
        return key_from_json({**info, "token": token})

    def generate(self, fields: Mapping[str, Any]) -> CreatedKey:
        """Create a key; the answer carries its plaintext, once."""
        body = self._call("POST", "/key/generate", "create the key", body=dict(fields))
        return _created(body)

    def update(self, token: str, fields: Mapping[str, Any]) -> None:
        """Replace the given fields of the key `token` (metadata: whole; see merge_metadata)."""
        self._call("POST", "/key/update", "update the key", body={**fields, "key": token})

    def block(self, token: str) -> None:
        self._call("POST", "/key/block", "block the key", body={"key": token})

    def unblock(self, token: str) -> None:
        self._call("POST", "/key/unblock", "unblock the key", body={"key": token})

    def regenerate(self, token: str) -> CreatedKey:
        """A new plaintext for the key `token` (same settings); the old one stops working."""
        body = self._call("POST", "/key/regenerate", "regenerate the key", body={"key": token})
        return _created(body)

    def delete(self, tokens: Sequence[str]) -> list[str]:
        """Delete keys by hash; returns what LiteLLM reports deleted."""
        body = self._call("POST", "/key/delete", "delete the key", body={"keys": list(tokens)})
        deleted = body.get("deleted_keys")
        return [str(k) for k in deleted] if isinstance(deleted, list) else list(tokens)

    def _call(
        self,
        method: str,
        path: str,
        action: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = self._client.admin_request(method, path, params=params, body=body)
        if response.status_code != 200:
            raise _failed(response, action)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if answer is None:
            return {}
        if not isinstance(answer, dict):
            raise LiteLLMError(f"LiteLLM's {path} answer is not a JSON object.")
        return answer


# --- reading answers ---------------------------------------------------------------------------


def key_from_json(row: Mapping[str, Any]) -> VirtualKey:
    """A VirtualKey from a /key/list entry, a /key/info `info` or a /key/generate answer."""
    models = row.get("models")
    return VirtualKey(
        token=str(row.get("token") or ""),
        key_name=str(row.get("key_name") or "sk-..."),
        alias=_str(row.get("key_alias")),
        models=tuple(str(m) for m in models) if isinstance(models, list) else (),
        spend=float(row.get("spend") or 0.0),
        max_budget=_float(row.get("max_budget")),
        budget_duration=_str(row.get("budget_duration")),
        budget_reset_at=parse_time(row.get("budget_reset_at")),
        expires=parse_time(row.get("expires")),
        rpm_limit=_int(row.get("rpm_limit")),
        tpm_limit=_int(row.get("tpm_limit")),
        blocked=bool(row.get("blocked")),
        metadata=_mapping(row.get("metadata")),
        aliases={str(k): str(v) for k, v in _mapping(row.get("aliases")).items()},
        router_settings=_mapping(row.get("router_settings")),
        last_active=parse_time(row.get("last_active")),
        created_at=parse_time(row.get("created_at")),
        user_id=_str(row.get("user_id")),
        team_id=_str(row.get("team_id")),
    )


def _created(body: Mapping[str, Any]) -> CreatedKey:
    secret = body.get("key")
    if not isinstance(secret, str) or not secret:
        raise LiteLLMError("LiteLLM created the key but its answer holds no key.")
    return CreatedKey(key_from_json(body), secret)


def parse_time(value: object) -> datetime | None:
    """LiteLLM's timestamps (ISO text, naive = UTC) as aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# --- errors as sentences -----------------------------------------------------------------------


def _failed(response: httpx.Response, action: str) -> KeyRequestFailed:
    message = redact_keys(_message(response)).strip().rstrip(".")
    status = response.status_code
    lowered = message.lower()
    if "enterprise" in lowered:
        return KeyRequestFailed(
            f"LiteLLM did not {action}: this needs a LiteLLM Enterprise licence on the stack. "
            "Create a new key and delete this one instead.",
            status,
            needs_enterprise=True,
        )
    if "db not connected" in lowered or "database not connected" in lowered or "no db" in lowered:
        return KeyRequestFailed(
            f"LiteLLM did not {action}: it has no database, and virtual keys live there. "
            "Set DATABASE_URL for LiteLLM on the stack.",
            status,
        )
    if status == 404:
        return KeyRequestFailed(
            f"LiteLLM did not {action}: there is no such key (deleted by someone else?).", status
        )
    if status == 422:
        return KeyRequestFailed(
            f"LiteLLM did not {action}: it rejected the request ({message or 'invalid body'}).",
            status,
        )
    detail = message or response.reason_phrase or "no detail"
    return KeyRequestFailed(f"LiteLLM did not {action}: {detail}.", status)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
    error = body.get("error")
    detail = body.get("detail")
    if isinstance(error, dict):
        return _unwrap(error.get("message"))
    if isinstance(error, str):
        return error
    if isinstance(detail, dict):
        return _unwrap(detail.get("error") or detail.get("message") or detail)
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(_validation_line(d) for d in detail if isinstance(d, dict))
    return _unwrap(detail or body.get("message"))


def _unwrap(value: object) -> str:
    """LiteLLM wraps an HTTPException's detail dict in str(): "{'error': 'Key not found.'}"."""
    text = "" if value is None else str(value)
    if text.startswith("{") and text.endswith("}"):
        try:
            inner = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(inner, dict):
            return str(inner.get("error") or inner.get("message") or text)
    return text


def _validation_line(detail: Mapping[str, Any]) -> str:
    location = ".".join(str(p) for p in detail.get("loc", ()) if p != "body")
    return f"{location}: {detail.get('msg', 'invalid')}" if location else str(detail.get("msg"))
