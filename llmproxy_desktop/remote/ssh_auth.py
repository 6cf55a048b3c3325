"""Authenticating one SSH hop: by ssh-agent, by key file (+ passphrase) or by password.

Only the chosen method is tried (desktop-conventions §1.2: never query the agent when an explicit
key is chosen), and every failure is an `SshAuthFailed` whose message says which credential did
not work and why, without the credential itself.
"""

from __future__ import annotations

import io
from pathlib import Path

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .errors import (
    KeyPassphraseMissing,
    KeyPassphraseWrong,
    SshAuthFailed,
    SshConnectFailed,
)
from .ssh_target import AuthMethod, SshAuth

_OPENSSH_KEY_HEADER = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_SUPPORTED_KEYS = (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)


def load_private_key(key_file: Path, passphrase: str | None) -> paramiko.PKey:
    """The private key in `key_file` (OpenSSH or PEM format), decrypted with `passphrase` if it
    is encrypted.

    Raises KeyPassphraseMissing / KeyPassphraseWrong for an encrypted key without / with the
    wrong passphrase, SshAuthFailed for an unreadable or unsupported file."""
    path = key_file.expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SshAuthFailed(f"Cannot read the key file {path}: {error.strerror or error}") from None
    # The key is decrypted once, by `cryptography`, whose errors tell a wrong passphrase apart
    # from a damaged file (paramiko's own loader reports both as a vague "Invalid key"); the
    # decrypted key is then handed to paramiko in memory, avoiding a second slow bcrypt KDF.
    decrypted = _decrypt(data, passphrase, path)
    return _as_paramiko_key(decrypted, path)


def authenticate(transport: paramiko.Transport, user: str, auth: SshAuth, address: str) -> None:
    """Log `user` in on an SSH transport whose host key has been checked already.

    `address` (host:port) only names the server in messages."""
    try:
        if auth.method is AuthMethod.AGENT:
            _authenticate_with_agent(transport, user, address)
        elif auth.method is AuthMethod.KEY_FILE:
            if auth.key_file is None:
                raise SshAuthFailed("Key-file authentication was chosen but no key file is set.")
            key = load_private_key(auth.key_file, auth.secret)
            _offer_key(transport, user, key, f"the key {auth.key_file}", address)
        else:
            _authenticate_with_password(transport, user, auth.secret, address)
    except (paramiko.SSHException, EOFError, OSError) as error:
        if isinstance(error, paramiko.AuthenticationException):
            raise SshAuthFailed(f"{address} refused the login of {user}: {error}") from None
        raise SshConnectFailed(
            address, f"the connection broke during authentication ({_describe(error)})"
        ) from None


def _decrypt(data: bytes, passphrase: str | None, path: Path) -> _PrivateKey:
    is_openssh = _OPENSSH_KEY_HEADER in data
    loader = (
        serialization.load_ssh_private_key if is_openssh else serialization.load_pem_private_key
    )
    try:
        loaded = loader(data, None)
    except TypeError:
        pass  # encrypted: cryptography says so with a TypeError when no password is given
    except (ValueError, UnsupportedAlgorithm):
        raise SshAuthFailed(
            f"The key file {path} is not a private key paramiko can use (OpenSSH or PEM format, "
            "RSA, ECDSA or Ed25519)."
        ) from None
    else:
        return _supported(loaded, path)
    if not passphrase:
        raise KeyPassphraseMissing(str(path))
    try:
        loaded = loader(data, passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        # For an encrypted key that loads fine without decryption checks, the only failing
        # input left is the passphrase (a corrupt ciphertext is indistinguishable from it).
        raise KeyPassphraseWrong(str(path)) from None
    return _supported(loaded, path)


def _supported(loaded: object, path: Path) -> _PrivateKey:
    if isinstance(loaded, _SUPPORTED_KEYS):
        return loaded
    raise SshAuthFailed(
        f"The key file {path} holds a {type(loaded).__name__}; use RSA, ECDSA or Ed25519."
    )


def _as_paramiko_key(key: _PrivateKey, path: Path) -> paramiko.PKey:
    key_class: type[paramiko.PKey]
    if isinstance(key, rsa.RSAPrivateKey):
        key_class = paramiko.RSAKey
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    else:
        key_class = paramiko.ECDSAKey
    text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")
    try:
        loaded: paramiko.PKey = key_class.from_private_key(io.StringIO(text))
    except paramiko.SSHException as error:
        raise SshAuthFailed(f"The key file {path} cannot be used: {error}") from None
    return loaded


def _authenticate_with_agent(transport: paramiko.Transport, user: str, address: str) -> None:
    try:
        agent = paramiko.Agent()
    except paramiko.SSHException as error:
        raise SshAuthFailed(f"The ssh-agent (SSH_AUTH_SOCK) cannot be used: {error}") from None
    try:
        keys = agent.get_keys()
        if not keys:
            raise SshAuthFailed(
                "Agent authentication was chosen, but no ssh-agent answers (SSH_AUTH_SOCK) or "
                "it holds no keys; add one with ssh-add."
            )
        for key in keys:
            try:
                _offer_key(transport, user, key, "an agent key", address)
                return
            except SshAuthFailed:
                continue  # the next key; sshd counts tries against MaxAuthTries
        raise SshAuthFailed(
            f"{address} refused all {len(keys)} key(s) the ssh-agent offered for {user}."
        )
    finally:
        agent.close()


def _offer_key(
    transport: paramiko.Transport, user: str, key: paramiko.PKey, what: str, address: str
) -> None:
    try:
        remaining = transport.auth_publickey(user, key)
    except paramiko.BadAuthenticationType as error:
        raise SshAuthFailed(
            f"{address} does not accept public keys for {user} "
            f"(it allows: {', '.join(error.allowed_types)})."
        ) from None
    except paramiko.AuthenticationException:
        raise SshAuthFailed(f"{address} refused {what} for {user}.") from None
    _require_complete(remaining, address, user)


def _authenticate_with_password(
    transport: paramiko.Transport, user: str, password: str | None, address: str
) -> None:
    if not password:
        raise SshAuthFailed("Password authentication was chosen but no password was given.")
    try:
        remaining = transport.auth_password(user, password)
    except paramiko.BadAuthenticationType as error:
        raise SshAuthFailed(
            f"{address} does not accept passwords for {user} "
            f"(it allows: {', '.join(error.allowed_types)})."
        ) from None
    except paramiko.AuthenticationException:
        raise SshAuthFailed(f"{address} refused the password for {user}.") from None
    _require_complete(remaining, address, user)


def _require_complete(remaining: list[str] | None, address: str, user: str) -> None:
    # A non-empty list means "partial success": the server wants a second factor.
    if remaining:
        raise SshAuthFailed(
            f"{address} wants further authentication for {user} ({', '.join(remaining)}), "
            "which the app does not support yet."
        )


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
