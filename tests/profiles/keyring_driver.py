"""Drives `keyring_secrets` inside a D-Bus session (run by tests/fixtures/keyring_dbus.py).

Reads a JSON list of steps on stdin (secrets travel there, never in argv), runs them with the
backend keyring selects by itself, and prints one JSON result per step:

    {"op": "status"}                                   -> {"backend", "secure", "message"}
    {"op": "save", "stack", "kind", "value"}           -> {"ok": true} | {"error", "message"}
    {"op": "get", "stack", "kind"}                     -> {"value": str | null}
    {"op": "forget", "stack"}                          -> {"forgotten": [kind, ...]}
    {"op": "items"}                                    -> {"items": [attributes, ...]}
"""

from __future__ import annotations

import json
import sys
from contextlib import closing
from typing import Any

from llmproxy_desktop.remote.keyring_secrets import KeyringError, KeyringSecrets
from llmproxy_desktop.remote.profiles import SecretKind


def _items() -> list[dict[str, str]]:
    """Attributes of every item in the default collection: what the Secret Service holds."""
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.get_default_collection(connection)
        return [dict(item.get_attributes()) for item in collection.get_all_items()]


def run_step(secrets: KeyringSecrets, step: dict[str, Any]) -> dict[str, Any]:
    op = step["op"]
    try:
        if op == "status":
            status = secrets.status()
            return {
                "backend": status.backend_name,
                "secure": status.secure,
                "message": status.message,
            }
        if op == "save":
            secrets.save(step["stack"], SecretKind(step["kind"]), step["value"])
            return {"ok": True}
        if op == "get":
            return {"value": secrets.get(step["stack"], SecretKind(step["kind"]))}
        if op == "forget":
            return {"forgotten": [kind.value for kind in secrets.forget_stack(step["stack"])]}
        if op == "items":
            return {"items": _items()}
    except KeyringError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    secrets = KeyringSecrets()
    steps = json.load(sys.stdin)
    for step in steps:
        print(json.dumps(run_step(secrets, step)), flush=True)


if __name__ == "__main__":
    main()
