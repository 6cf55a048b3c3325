"""The profiles file: round trip, format version, 0600, atomic replace, corrupt files reported
and never overwritten, and no lost update between two processes."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest

from llmproxy_desktop.remote.profiles import JumpHost, StackProfile, Transport
from llmproxy_desktop.remote.profiles_store import (
    FORMAT_VERSION,
    ProfileExists,
    ProfileNotFound,
    ProfileStore,
    ProfileStoreError,
    default_profiles_path,
)
from llmproxy_desktop.remote.ssh_target import AuthMethod

FULL = StackProfile(
    name="Prod EU",
    compose_dir="/opt/llm",
    host="gw.example",
    port=2222,
    user="admin",
    auth=AuthMethod.KEY_FILE,
    key_file=Path("~/.ssh/id_ed25519"),
    ssh_config_alias="prod-gw",
    jump=JumpHost(
        host="bastion", port=22, user="ann", auth=AuthMethod.KEY_FILE, key_file=Path("/k")
    ),
    keepalive_seconds=30,
    config_path="/opt/llm/conf/litellm.yaml",
    postgres_port=15432,
    socket_proxy_port=12375,
    litellm_port=14000,
    litellm_container="gw-litellm",
    db_name="litellm_prod",
    db_user="gw",
)
LOCAL = StackProfile(name="laptop", compose_dir="/home/me/stack", transport=Transport.LOCAL)


def test_a_missing_file_means_no_stacks(store: ProfileStore) -> None:
    assert store.load() == ()
    assert not store.path.exists()


def test_every_field_survives_a_round_trip(store: ProfileStore) -> None:
    store.add(FULL)
    store.add(LOCAL)

    reopened = ProfileStore(store.path)
    assert reopened.load() == (LOCAL, FULL)  # sorted by name, ignoring case
    assert reopened.get("Prod EU") == FULL


def test_the_file_is_versioned_json_with_every_field(store: ProfileStore) -> None:
    store.add(LOCAL)
    document = json.loads(store.path.read_text())

    assert document["version"] == FORMAT_VERSION
    (entry,) = document["stacks"]
    assert entry["name"] == "laptop" and entry["host"] is None and entry["jump"] is None
    assert set(entry) == set(StackProfile.__dataclass_fields__)


def test_file_and_directory_are_private(store: ProfileStore) -> None:
    store.add(LOCAL)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_a_write_replaces_the_file_and_leaves_no_temp_file(store: ProfileStore) -> None:
    store.add(LOCAL)
    inode = store.path.stat().st_ino
    store.add(FULL)

    assert store.path.stat().st_ino != inode  # a new file renamed over the old one
    leftovers = {p.name for p in store.path.parent.iterdir()}
    assert leftovers == {"stacks.json", "stacks.json.lock"}


def test_names_are_unique_ignoring_case(store: ProfileStore) -> None:
    store.add(FULL)
    with pytest.raises(ProfileExists, match="names ignore case"):
        store.add(StackProfile(name="PROD eu", compose_dir="/x", host="h"))


def test_replace_and_remove(store: ProfileStore) -> None:
    store.add(FULL)
    changed = StackProfile(name="Prod EU", compose_dir="/srv/llm", host="other.example")

    assert store.replace(changed) == FULL
    assert store.get("Prod EU") == changed
    assert store.remove("Prod EU") == changed
    assert store.load() == ()
    with pytest.raises(ProfileNotFound):
        store.remove("Prod EU")
    with pytest.raises(ProfileNotFound):
        store.replace(changed)


CORRUPT = {
    "not json": b'{"version": 1, "stacks": [',
    "not utf-8": b"\xff\xfe{}",
    "not an object": b"[]",
    "no version": b'{"stacks": []}',
    "newer version": b'{"version": 99, "stacks": []}',
    "bool version": b'{"version": true, "stacks": []}',
    "extra key": b'{"version": 1, "stacks": [], "x": 1}',
    "unknown field": b'{"version": 1, "stacks": [{"name": "a", "compose_dir": "/x", '
    b'"host": "h", "hots": "typo"}]}',
    "wrong type": b'{"version": 1, "stacks": [{"name": "a", "compose_dir": "/x", '
    b'"host": "h", "port": "22"}]}',
    "invalid value": b'{"version": 1, "stacks": [{"name": "a", "compose_dir": "x", "host": "h"}]}',
    "unknown auth": b'{"version": 1, "stacks": [{"name": "a", "compose_dir": "/x", '
    b'"host": "h", "auth": "kerberos"}]}',
    "duplicate": b'{"version": 1, "stacks": [{"name": "a", "compose_dir": "/x", "host": "h"}, '
    b'{"name": "A", "compose_dir": "/x", "host": "h"}]}',
    "missing name": b'{"version": 1, "stacks": [{"compose_dir": "/x", "host": "h"}]}',
    "bad jump": b'{"version": 1, "stacks": [{"name": "a", "compose_dir": "/x", "host": "h", '
    b'"jump": {"port": 22}}]}',
}


@pytest.mark.parametrize("content", CORRUPT.values(), ids=CORRUPT.keys())
def test_a_corrupt_file_is_reported_and_never_overwritten(
    store: ProfileStore, content: bytes
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)

    with pytest.raises(ProfileStoreError) as caught:
        store.load()
    message = str(caught.value)
    assert str(store.path) in message and "left as it is" in message
    assert "\n" not in message

    for change in (
        lambda: store.add(LOCAL),
        lambda: store.replace(LOCAL),
        lambda: store.remove("a"),
    ):
        with pytest.raises(ProfileStoreError):
            change()
    assert store.path.read_bytes() == content


def test_a_file_from_a_newer_release_says_so(store: ProfileStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text('{"version": 2, "stacks": []}')
    with pytest.raises(ProfileStoreError, match="newer release"):
        store.load()


def test_a_hand_written_minimal_entry_takes_the_defaults(store: ProfileStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(
        '{"version": 1, "stacks": [{"name": "min", "compose_dir": "/srv", "host": "h"}]}'
    )
    assert store.get("min") == StackProfile(name="min", compose_dir="/srv", host="h")


def test_the_default_location_is_the_user_config_dir(isolated_home: Path) -> None:
    assert default_profiles_path() == isolated_home / ".config" / "llmproxy-desktop" / "stacks.json"


def _add_many(path: str, prefix: str, count: int, start: Any) -> None:
    store = ProfileStore(Path(path))
    start.wait()  # both processes begin together, so their read-modify-writes interleave
    for index in range(count):
        store.add(StackProfile(name=f"{prefix}{index}", compose_dir="/x", host="h"))


def test_two_processes_adding_at_once_lose_nothing(store: ProfileStore) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=_add_many, args=(str(store.path), prefix, 40, start))
        for prefix in "ab"
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    assert len(store.load()) == 80
