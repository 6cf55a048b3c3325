"""Fixtures for the sheet tests: a throwaway home and config directory, an in-memory keyring
(the sanctioned MemoryKeyring double, selected as tests/profiles/conftest.py does), and a job
runner that must end with no thread left running.

Imported by name into each test module (pytest finds fixtures in the module's namespace).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring.core
import pytest
from PySide6.QtWidgets import QApplication

from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.ui.job_runner import JobRunner
from tests.profiles.fake_keyrings import MemoryKeyring, PlaintextFileKeyring

# Long enough never to be reached by working code, short enough to end a broken test.
BOUND_MS = 15_000


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and the XDG directories in tmp: no test reads or writes the admin's own files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """A safe in-memory keyring as the active backend (keyring's global is put back after)."""
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    return backend


@pytest.fixture
def plaintext_keyring(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[PlaintextFileKeyring]:
    """Only an unsafe (plaintext file) keyring, as when keyrings.alt is all there is."""
    monkeypatch.setenv("FAKE_PLAINTEXT_FILE", str(tmp_path / "plaintext-keyring.json"))
    backend = PlaintextFileKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    yield backend


@pytest.fixture
def profile_store(isolated_home: Path) -> ProfileStore:
    """The default store, which the isolated XDG_CONFIG_HOME puts under tmp."""
    return ProfileStore()


@pytest.fixture
def host_keys(tmp_path: Path) -> HostKeyStore:
    """Empty app and user known_hosts files of the test's own."""
    return HostKeyStore(
        app_known_hosts=tmp_path / "app_known_hosts",
        user_known_hosts=tmp_path / "user_known_hosts",
    )


@pytest.fixture
def runner(qapp: QApplication) -> Iterator[JobRunner]:
    """A job runner; the test fails if a worker thread outlives it."""
    job_runner = JobRunner()
    yield job_runner
    assert job_runner.shutdown(timeout_ms=BOUND_MS), "a job thread was left running"
