"""Container log lines as plain text (core/log_text.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmproxy_desktop.core.log_text import plain_log_line

# What LiteLLM 1.108.7's colour logger and uvicorn write when Docker gives them no TTY check.
LITELLM_LINES = [
    (
        "\x1b[92m12:00:01 - LiteLLM Proxy:INFO\x1b[0m: proxy_server.py:1234 - Started",
        "12:00:01 - LiteLLM Proxy:INFO: proxy_server.py:1234 - Started",
    ),
    (
        "\x1b[32mINFO\x1b[0m:     127.0.0.1:50000 - "
        '\x1b[1m"GET /health/readiness HTTP/1.1\x1b[0m" \x1b[32m200 OK\x1b[0m',
        'INFO:     127.0.0.1:50000 - "GET /health/readiness HTTP/1.1" 200 OK',
    ),
    ("\x1b[1;31;48;5;236mERROR\x1b[K\x1b[m boom", "ERROR boom"),
    ("\x1b]8;;https://docs.litellm.ai\x07docs\x1b]8;;\x07", "docs"),
    ("\x1b]0;title\x1b\\text", "text"),
    ("\x1b(Bplain", "plain"),
    ("progress 10%\rprogress 20%\r", "progress 10%progress 20%"),
    ("tab\tkept", "tab\tkept"),
    ("cut off at the end \x1b[", "cut off at the end ["),
    ("\x9b\n@ joined by the removal", "@ joined by the removal"),  # found by hypothesis
]


@pytest.mark.parametrize(("raw", "plain"), LITELLM_LINES)
def test_escape_sequences_and_controls_are_removed(raw: str, plain: str) -> None:
    assert plain_log_line(raw) == plain


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc",))))
def test_printable_text_is_returned_unchanged(text: str) -> None:
    assert plain_log_line(text) == text


@settings(max_examples=2000)  # cheap, and the inputs that matter are rare
@given(st.text())
def test_no_escape_or_control_character_survives(text: str) -> None:
    plain = plain_log_line(text)
    assert not any((ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F for c in plain)


@settings(max_examples=2000)
@given(st.text())
def test_plain_text_is_a_fixed_point(text: str) -> None:
    once = plain_log_line(text)
    assert plain_log_line(once) == once
