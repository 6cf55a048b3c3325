"""Stack profiles for GUI tests: the window only needs names, so the profiles are minimal."""

from __future__ import annotations

from llmproxy_desktop.remote.profiles import StackProfile
from llmproxy_desktop.remote.profiles_store import ProfileStore


def add_stacks(store: ProfileStore, *names: str) -> ProfileStore:
    """Store a minimal SSH profile for each name; returns the store."""
    for name in names:
        store.add(StackProfile(name=name, host=f"{name}.example.net", compose_dir="/srv/litellm"))
    return store
