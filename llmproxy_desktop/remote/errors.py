"""Errors of the way out to a stack. Each names the layer that failed, so the UI and CLI can say
"host key unknown" rather than "cannot reach database" (issue #3). Messages never hold secrets."""

from __future__ import annotations

from enum import StrEnum


class Layer(StrEnum):
    """Where along the path to the Servant something failed, outermost first."""

    PROFILE = "profile"  # the stack profile itself (missing field, bad value)
    KEYRING = "keyring"  # the OS keyring
    SSH_CONNECT = "ssh-connect"  # TCP to the SSH server or jump host
    HOST_KEY = "host-key"  # unknown or changed host key
    SSH_AUTH = "ssh-auth"  # authentication refused
    FORWARD = "forward"  # a local forward / direct-tcpip channel
    SFTP = "sftp"  # file transfer on the session
    POSTGRES = "postgres"  # the stack's database (auth, reachability)
    SOCKET_PROXY = "socket-proxy"  # the docker socket-proxy refused or is down
    DOCKER = "docker"  # the Docker API answered with an error
    LITELLM = "litellm"  # LiteLLM down, not ready, or refusing the master key


class RemoteError(Exception):
    """Base of every remote failure; `layer` says where, the message says what to do."""

    layer: Layer = Layer.SSH_CONNECT

    def __init__(self, message: str, *, layer: Layer | None = None) -> None:
        super().__init__(message)
        if layer is not None:
            self.layer = layer

    def __str__(self) -> str:
        return f"[{self.layer.value}] {self.args[0]}"


class HostKeyError(RemoteError):
    layer = Layer.HOST_KEY


class HostKeyUnknown(HostKeyError):
    """The server's key is in no known_hosts file; the admin must confirm its fingerprint.

    `other_known_types` lists key types already recorded for this host: then the server offers
    a key of a type never seen before, which OpenSSH warns about (it can be an attacker who
    offers only a type the client has no record of)."""

    def __init__(
        self, host: str, key_type: str, fingerprint: str, other_known_types: tuple[str, ...] = ()
    ) -> None:
        self.host, self.key_type, self.fingerprint = host, key_type, fingerprint
        self.other_known_types = other_known_types
        warning = ""
        if other_known_types:
            warning = (
                f"WARNING: {', '.join(other_known_types)} key(s) are already known for {host}, "
                f"but it now offers a {key_type} key. "
            )
        super().__init__(
            f"{warning}The host key of {host} is not known yet ({key_type} {fingerprint}). "
            "Compare the fingerprint with the server's (ssh-keygen -lf "
            "/etc/ssh/ssh_host_*_key.pub) and accept it only if they match."
        )


class HostKeyChanged(HostKeyError):
    """The server presents a different key than the one recorded: refused, no bypass."""

    def __init__(self, host: str, key_type: str, expected: str, presented: str) -> None:
        self.host, self.key_type = host, key_type
        self.expected, self.presented = expected, presented
        super().__init__(
            f"The host key of {host} has CHANGED: recorded {expected}, presented {presented}. "
            "This can be a man-in-the-middle attack. If the server was reinstalled, remove the "
            "old key from known_hosts yourself after checking the new one; the app will not "
            "connect until then."
        )


# --- SSH session errors (ssh_session, ssh_auth, port_forward, sftp_atomic) ---------------------


class SshConnectFailed(RemoteError):
    """No SSH conversation with `address` (host:port): refused, unreachable, timed out, or the
    other end does not speak SSH."""

    layer = Layer.SSH_CONNECT

    def __init__(self, address: str, reason: str) -> None:
        self.address, self.reason = address, reason
        super().__init__(f"Cannot open an SSH connection to {address}: {reason}")


class SshAuthFailed(RemoteError):
    """The server refused every credential offered, or the credential could not be used."""

    layer = Layer.SSH_AUTH


class KeyPassphraseWrong(SshAuthFailed):
    """The passphrase given for a private key file does not decrypt it."""

    def __init__(self, key_file: str) -> None:
        self.key_file = key_file
        super().__init__(
            f"The passphrase for the key file {key_file} is wrong: the key cannot be decrypted."
        )


class KeyPassphraseMissing(SshAuthFailed):
    """The private key file is encrypted and no passphrase was given."""

    def __init__(self, key_file: str) -> None:
        self.key_file = key_file
        super().__init__(f"The key file {key_file} is protected by a passphrase; none was given.")


class ForwardFailed(RemoteError):
    """The SSH server could not open a connection to `remote_host:remote_port` for a forward."""

    layer = Layer.FORWARD

    def __init__(self, remote_host: str, remote_port: int, reason: str) -> None:
        self.remote_host, self.remote_port, self.reason = remote_host, remote_port, reason
        super().__init__(
            f"The forward to {remote_host}:{remote_port} failed: {reason}. Is the service "
            "running there, and is that address right as seen from the SSH server?"
        )


class SftpFailed(RemoteError):
    """A file operation over SFTP failed; `path` is the remote file concerned."""

    layer = Layer.SFTP

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"SFTP on {path} failed: {reason}")


class SessionNotConnected(RemoteError):
    """The SSH session is not connected (not yet, reconnecting, closed or failed)."""

    layer = Layer.SSH_CONNECT


class RemoteCommandTimeout(RemoteError):
    """A command run over SSH did not finish in time; the connection itself may be fine."""

    layer = Layer.SSH_CONNECT

    def __init__(self, command: str, timeout: float) -> None:
        # Only the program's name: the rest of a command line may carry values not meant for logs.
        self.program = command.split(maxsplit=1)[0] if command.strip() else command
        self.timeout = timeout
        super().__init__(f"The remote command {self.program!r} did not finish within {timeout:g} s")


# --- Talking to the Servant: socket-proxy, Docker, LiteLLM (docker_control, litellm_client) -----


class SocketProxyError(RemoteError):
    """The Docker socket-proxy in front of the stack's Docker API is down or said no."""

    layer = Layer.SOCKET_PROXY


class SocketProxyUnreachable(SocketProxyError):
    """Nothing answers at the socket-proxy's (forwarded) address."""

    def __init__(self, address: str, reason: str) -> None:
        self.address, self.reason = address, reason
        super().__init__(
            f"Cannot reach the Docker socket-proxy at {address}: {reason}. Is the forward to "
            "the socket-proxy up, and is the socket-proxy container running on the stack?"
        )


class SocketProxyRefused(SocketProxyError):
    """The socket-proxy's least-privilege policy refused a Docker API call (its own 403, before
    Docker saw the request). `method` and `path` are the refused call."""

    def __init__(self, method: str, path: str) -> None:
        self.method, self.path = method, path
        super().__init__(
            f"The socket-proxy refused {method} {path}: its policy allows only ping, version, "
            "and inspect, logs and restart of the LiteLLM container by name. If this call "
            "should work, check that the profile's container name equals LITELLM_CONTAINER in "
            "the stack's .env."
        )


class DockerError(RemoteError):
    """The Docker API (behind the socket-proxy) answered with an error, or not at all."""

    layer = Layer.DOCKER


class ContainerNotFound(DockerError):
    """Docker knows no container of that name on the stack."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"Docker has no container named {name!r} on the stack. Is the stack up "
            "(docker compose up -d), and does the profile name the LiteLLM container as the "
            "compose file does?"
        )


class LiteLLMError(RemoteError):
    """LiteLLM is down, not ready, refuses the master key, or answered with an error."""

    layer = Layer.LITELLM


class LiteLLMDown(LiteLLMError):
    """Nothing answers at LiteLLM's (forwarded) address, or it answered too late."""

    def __init__(self, address: str, reason: str) -> None:
        self.address, self.reason = address, reason
        super().__init__(
            f"LiteLLM does not answer at {address}: {reason}. Is the forward to LiteLLM up, "
            "and is the LiteLLM container running (a restart takes a few seconds)?"
        )


class MasterKeyRefused(LiteLLMError):
    """LiteLLM rejected the master key. Never carries the key or LiteLLM's echo of it."""

    def __init__(self, status: int, error_type: str) -> None:
        self.status, self.error_type = status, error_type
        hint = (
            " (LiteLLM has no database, so any key other than its master key is answered this way)"
            if error_type == "no_db_connection"
            else ""
        )
        super().__init__(
            f"LiteLLM refused the master key (HTTP {status}, {error_type or 'no detail'}){hint}. "
            "Check that the key saved for this stack equals LITELLM_MASTER_KEY in the stack's "
            ".env."
        )
