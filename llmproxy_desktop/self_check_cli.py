"""`self-check` (hidden): can this installation, above all a frozen (PyInstaller) build, run?

Each check imports or touches one thing the app needs at run time and prints one line,
``ok   <check>: <detail>`` or ``FAIL <check>: <reason>``; the exit code is 0 only when every
check passes. A frozen bundle that lacks a module, a data file or a Qt plugin fails here with the
name of what is missing, instead of later in front of the admin. The keyring check names the
backend and passes whether or not that backend is safe (a CI machine has no Secret Service):
it fails only when the backends themselves were not bundled.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

# The PySide6 modules the app imports (ui/); QtSvg is not among them: the SVG icon goes through
# Qt's image plugins, which the icon check exercises.
QT_MODULES = ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets")
# The keyring backends a bundle must carry: macOS, Windows and Secret Service (Linux).
KEYRING_BACKENDS = ("macOS", "Windows", "SecretService")

Check = Callable[[], str]


class CheckFailed(Exception):
    """A check that ran but found a problem; the message says what."""


def add_commands(commands: Any) -> None:
    """Register the hidden `self-check` command on the CLI's subparsers."""
    # No help=: argparse then leaves the command out of the command list in --help.
    parser = commands.add_parser("self-check", description=__doc__.splitlines()[0])
    parser.set_defaults(run=cmd_self_check)


def cmd_self_check(args: argparse.Namespace) -> int:
    """Run every check, one line each on stdout; 0 when all pass, else 1."""
    return run_checks(all_checks())


def all_checks() -> list[tuple[str, Check]]:
    """The checks in the order they run: cheap imports first, the window last."""
    return [
        ("version", check_version),
        ("sqlalchemy + psycopg", check_database_driver),
        ("cryptography", check_cryptography),
        ("argon2", check_argon2),
        ("yaml", check_yaml),
        ("httpx", check_httpx),
        ("paramiko", check_paramiko),
        ("docker", check_docker),
        ("platformdirs", check_platformdirs),
        ("alembic migrations", check_migrations),
        ("keyring backend", check_keyring),
        ("catalog", check_catalog),
        ("stack files", check_stack_files),
        ("qt modules", check_qt_modules),
        ("main window", check_main_window),
    ]


def run_checks(checks: Sequence[tuple[str, Check]]) -> int:
    """Run `checks`, print one line per check; 0 when all passed, else 1."""
    failed = 0
    for name, check in checks:
        try:
            detail = check()
        except Exception as exc:  # any failure is this check's result, never a traceback
            failed += 1
            reason = str(exc) or type(exc).__name__
            print(f"FAIL {name}: {type(exc).__name__}: {reason}", flush=True)
        else:
            print(f"ok   {name}: {detail}", flush=True)
    total = len(checks)
    summary = f"self-check: {total - failed} of {total} checks passed"
    print(summary if not failed else f"{summary}, {failed} FAILED", flush=True)
    return 1 if failed else 0


# --- the checks ----------------------------------------------------------------------------------


def check_version() -> str:
    from . import __version__

    if __version__.endswith("+source"):
        raise CheckFailed(f"{__version__}: the package metadata is missing (not bundled?)")
    frozen = "frozen" if getattr(sys, "frozen", False) else "not frozen"
    return f"llmproxy-desktop {__version__}, Python {sys.version.split()[0]}, {frozen}"


def check_database_driver() -> str:
    import psycopg
    import sqlalchemy
    from sqlalchemy import create_engine

    # Creating an engine loads the dialect and imports the DBAPI; it connects to nothing.
    engine = create_engine("postgresql+psycopg://user@localhost/db")
    try:
        dialect = f"{engine.dialect.name}+{engine.dialect.driver}"
    finally:
        engine.dispose()
    # "binary"/"c": libpq comes with the app; "python" would need the system's libpq.
    impl = psycopg.pq.__impl__
    if impl not in ("binary", "c"):
        raise CheckFailed(f"psycopg uses its {impl!r} libpq wrapper; psycopg_binary is missing")
    return (
        f"SQLAlchemy {sqlalchemy.__version__}, {dialect}, psycopg {psycopg.__version__} "
        f"({impl}, libpq {psycopg.pq.version()})"
    )


def check_cryptography() -> str:
    import cryptography
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, b"self-check", None)
    if AESGCM(key).decrypt(nonce, sealed, None) != b"self-check":
        raise CheckFailed("AES-GCM round trip returned other bytes")
    return f"{cryptography.__version__}, AES-GCM round trip"


def check_argon2() -> str:
    import argon2

    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    if not hasher.verify(hasher.hash("self-check"), "self-check"):
        raise CheckFailed("argon2 did not verify its own hash")
    return f"argon2-cffi {importlib.metadata.version('argon2-cffi')}, hash + verify"


def check_yaml() -> str:
    import yaml

    document = {"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/m"}}]}
    if yaml.safe_load(yaml.safe_dump(document)) != document:
        raise CheckFailed("YAML round trip changed the document")
    libyaml = "with libyaml" if yaml.__with_libyaml__ else "pure Python"
    return f"PyYAML {yaml.__version__} ({libyaml}), round trip"


def check_httpx() -> str:
    import certifi
    import httpx

    # The TLS context loads certifi's CA bundle: a data file a bundle must carry.
    httpx.create_ssl_context()
    return f"{httpx.__version__}, TLS context with certifi {certifi.__version__}"


def check_paramiko() -> str:
    import paramiko

    key = paramiko.Ed25519Key.from_private_key(_ed25519_pem())
    return f"{paramiko.__version__}, Ed25519 key {key.get_fingerprint().hex()[:16]}..."


def _ed25519_pem() -> Any:
    import io

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return io.StringIO(pem.decode("ascii"))


def check_docker() -> str:
    import docker
    from docker import APIClient  # noqa: F401  # the client class the socket-proxy code uses

    return f"docker {docker.__version__}"


def check_platformdirs() -> str:
    import platformdirs

    return f"{platformdirs.__version__}, config dir {platformdirs.user_config_dir('llmproxy')}"


def check_migrations() -> str:
    import alembic

    from .store.schema_migration import MIGRATIONS_DIR, head_revision

    # Alembic reads the migration scripts as files: they must be in the bundle as data.
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise CheckFailed(f"{MIGRATIONS_DIR}: env.py is missing")
    return f"alembic {alembic.__version__}, head {head_revision()} in {MIGRATIONS_DIR}"


def check_keyring() -> str:
    from .remote.keyring_secrets import keyring_status

    # keyring finds its backends through its entry points: without keyring's metadata in the
    # bundle it silently falls back to fail.Keyring on every OS.
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group="keyring.backends")}
    missing = [name for name in KEYRING_BACKENDS if name not in found]
    if missing:
        raise CheckFailed(f"backends not bundled: {', '.join(missing)} (keyring metadata?)")
    for name in KEYRING_BACKENDS:
        found[name].load()
    if sys.platform.startswith("linux"):
        importlib.import_module("secretstorage")
        importlib.import_module("jeepney")
    status = keyring_status()
    safety = "safe" if status.secure else "NOT SAFE"
    return f"{status.backend_name} ({safety}); bundled: {', '.join(KEYRING_BACKENDS)}"


def check_catalog() -> str:
    from .core.catalog import parse_catalog
    from .ui.resources import resource_path

    path = resource_path("catalog", "model_catalog.json")
    catalog = parse_catalog(path.read_text("utf-8"))
    count = sum(len(catalog.models(p)) for p in catalog.providers)
    if not count:
        raise CheckFailed(f"{path}: no models")
    return (
        f"{count} models of {len(catalog.providers)} providers (LiteLLM {catalog.litellm_version})"
    )


def check_stack_files() -> str:
    # Imported by name: the deploy feature's module (stack_files.py) may be absent from a tree.
    try:
        stack_files = importlib.import_module(f"{__package__}.stack_files")
    except ModuleNotFoundError:
        return "none to check (no stack_files module)"
    names: tuple[str, ...] = stack_files.STACK_FILES
    sizes = [len(stack_files.read_bundled(name)) for name in names]
    return f"{len(names)} files, {sum(sizes)} bytes, in {stack_files.bundled_stack_dir()}"


def check_qt_modules() -> str:
    from .ui.self_check_window import qt_modules_loaded

    return qt_modules_loaded(QT_MODULES)


def check_main_window() -> str:
    """Open the real main window with its pages offscreen, then close it (ui/self_check_window.py:
    Qt stays inside ui/)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .ui.self_check_window import open_and_close_main_window

    try:
        return open_and_close_main_window()
    except RuntimeError as error:
        raise CheckFailed(str(error)) from None
