"""Container log lines as plain text.

LiteLLM (uvicorn, its own colour logger) writes ANSI colour codes when it thinks a terminal may
read it, and Docker keeps them: raw, they show as "[92m12:00:01 - LiteLLM Proxy:INFO[0m" in the
Logs page, in copies and in searches. `plain_log_line` removes terminal escape sequences and
the other control characters (C0, DEL, C1) except tab, and never anything printable.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["plain_log_line"]

# ECMA-48: CSI sequences (ESC [ params intermediates final, e.g. colours and cursor moves),
# OSC sequences (ESC ] ... BEL or ESC \, e.g. window titles and hyperlinks), and two-character
# escapes (ESC followed by one byte in @-Z \ ^ _ or a charset designator).
_ESCAPE: Final = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, terminated by BEL or ST (or cut off)
    r"|\x1b[()][0-9A-Za-z]"  # charset designation
    r"|\x1b[@-Z\\^_]"  # Fe escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0 controls, DEL and C1 controls, except tab: a lone ESC or CSI left over from a cut-off
# sequence goes too, so removing a control can never join two pieces into a new sequence.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def plain_log_line(line: str) -> str:
    """`line` without terminal escape sequences and control characters (tab kept)."""
    if not _CONTROL.search(line):  # ESC and CSI are controls too
        return line  # the common case: nothing to do, no copy
    return _CONTROL.sub("", _ESCAPE.sub("", line))
