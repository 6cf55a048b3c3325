"""LLM-Proxy Desktop: a native admin for self-hosted LiteLLM gateways."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("llmproxy-desktop")
except PackageNotFoundError:  # running from a source tree without metadata
    __version__ = "0.0.0+source"
