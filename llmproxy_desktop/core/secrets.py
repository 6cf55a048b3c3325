"""Finding, transforming and redacting secret values inside JSON-shaped item data."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Final

from .items import REDACTED, JSONValue, Secret, is_env_reference

# Fields that must never hold a literal (issue #2 plus the reference admin's list).
SECRET_FIELDS: Final = frozenset(
    {
        "api_key",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "vertex_credentials",
        "password",
        "s3_aws_secret_access_key",
        "redis_password",
        "redis_url",
        "master_key",
        "database_url",
        "azure_ad_token",
        "client_secret",
    }
)

# Words that make an unknown key look secret when they end it (api_key, auth_token, ...).
_SECRET_WORDS: Final = (
    "key",
    "secret",
    "password",
    "token",
    "credentials",
    "passphrase",
    "authorization",
)
# Header values that carry a credential whatever their key is called.
_AUTH_SCHEMES: Final = ("bearer ", "basic ", "token ")
_WORD_SPLIT: Final = re.compile(r"[_\-.]")
# scheme://user:password@host: a credential embedded in a URL.
_URL_WITH_PASSWORD: Final = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*://[^/@\s:]*:)([^/@\s]+)@")


def looks_secret_key(key: str) -> bool:
    """True when a key's last word names a secret (api_key, client_secret, auth_token)."""
    if key in SECRET_FIELDS:
        return True
    words = [w for w in _WORD_SPLIT.split(key.lower()) if w]
    return bool(words) and words[-1] in _SECRET_WORDS


def is_auth_header_value(value: object) -> bool:
    """True for `Bearer …`/`Basic …`/`Token …` header values."""
    return isinstance(value, str) and value[:7].lower().startswith(_AUTH_SCHEMES)


def has_embedded_password(value: str) -> bool:
    """True for URLs of the form scheme://user:password@host."""
    return bool(_URL_WITH_PASSWORD.match(value))


def mask_url_password(value: str) -> str:
    """The URL with its embedded password replaced by ***."""
    return _URL_WITH_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", value, count=1)


def is_literal(value: object) -> bool:
    """A non-empty string that is neither an os.environ/ reference nor a vault Secret."""
    return isinstance(value, str) and value.strip() != "" and not is_env_reference(value)


def is_literal_secret(value: object) -> bool:
    """A value that, under a secret field, is a plaintext secret: a literal string, a number, or
    a non-empty mapping/list (e.g. vertex_credentials given inline). Vault Secrets and
    os.environ/ references are not."""
    if value is None or isinstance(value, Secret | bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, dict | list):
        return bool(value)
    return is_literal(value)


def mask_secret_value(value: JSONValue) -> JSONValue:
    """The value as previews show it under a secret key: every literal leaf as ***."""
    if isinstance(value, dict):
        return {k: mask_secret_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secret_value(v) for v in value]
    if isinstance(value, Secret) or is_literal_secret(value):
        return REDACTED
    return value


def map_secrets(data: JSONValue, transform: Callable[[Secret], JSONValue]) -> JSONValue:
    """Copy `data`, replacing every Secret leaf by `transform(secret)`."""
    if isinstance(data, Secret):
        return transform(data)
    if isinstance(data, Mapping):
        return {k: map_secrets(v, transform) for k, v in data.items()}
    if isinstance(data, list):
        return [map_secrets(v, transform) for v in data]
    return data


def iter_secrets(data: JSONValue) -> Iterator[Secret]:
    """Every Secret leaf in `data`."""
    if isinstance(data, Secret):
        yield data
    elif isinstance(data, Mapping):
        for v in data.values():
            yield from iter_secrets(v)
    elif isinstance(data, list):
        for v in data:
            yield from iter_secrets(v)


def redact(data: JSONValue) -> JSONValue:
    """Copy with every Secret shown as ***."""
    return map_secrets(data, lambda _s: REDACTED)


def reveal(data: JSONValue) -> JSONValue:
    """Copy with every Secret replaced by its literal (only for the file LiteLLM reads)."""
    return map_secrets(data, Secret.reveal)
