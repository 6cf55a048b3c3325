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
    """The server's key is in no known_hosts file; the admin must confirm its fingerprint."""

    def __init__(self, host: str, key_type: str, fingerprint: str) -> None:
        self.host, self.key_type, self.fingerprint = host, key_type, fingerprint
        super().__init__(
            f"The host key of {host} is not known yet ({key_type} {fingerprint}). Compare the "
            "fingerprint with the server's (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and "
            "accept it only if they match."
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
