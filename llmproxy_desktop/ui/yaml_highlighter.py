"""Syntax colouring for YAML text: keys, strings, numbers, comments, booleans/null, anchors.

A line scanner rather than a YAML parser: it must colour half-typed, invalid text as the admin
types, and only the edited block is re-scanned on each keystroke (QSyntaxHighlighter's contract),
so a 100 kB config stays responsive. Block scalars (`|`, `>`) and multi-line flow collections are
coloured line by line, which is good enough for reading and cheap.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Final

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument


class Token(Enum):
    """What a stretch of YAML text is; each has a light and a dark colour."""

    KEY = ("#0b4f9c", "#6cb6ff")
    STRING = ("#a2471a", "#f0a37a")
    NUMBER = ("#1c6b48", "#7ee0a5")
    CONSTANT = ("#7a3fc4", "#c89cff")  # booleans and null
    ANCHOR = ("#8a5a00", "#e6c07b")  # &anchor, *alias, !!tag, << merge key
    COMMENT = ("#6e6e73", "#98989d")


# A key: optional "- " list markers, then a plain or quoted name, then ":" at the end or before
# a space. The plain name stops at the first ": " so URLs with "://" stay values.
_KEY: Final = re.compile(
    r"""^(\s*(?:-\s+)*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{}\[\],&*!|>@`-][^#]*?|-[^\s#][^#]*?)\s*:(?=\s|$)"""
)
_LIST_ITEM: Final = re.compile(r"^(\s*(?:-\s+)+)")
_QUOTED: Final = re.compile(r""""(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?""")
_NUMBER: Final = re.compile(
    r"[-+]?(?:0x[0-9a-fA-F_]+|0o[0-7_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))"
)
_CONSTANT: Final = re.compile(
    r"(?:true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|~)"
)
_ANCHOR: Final = re.compile(r"(?:[&*][^\s,\[\]{}]+|!!?[A-Za-z0-9_:/.-]*)")
_FLOW_SCALAR: Final = re.compile(r"[^\s,\[\]{}#][^,\[\]{}#]*?(?=\s*(?:[,\]}]|\s#|$))")


def comment_start(line: str) -> int:
    """Index of the `#` that starts a comment (outside quotes, at the start or after a space),
    or -1."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and (index == 0 or line[index - 1] in " \t:-[{,"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return index
    return -1


def scan_line(line: str) -> list[tuple[int, int, Token]]:
    """The coloured spans (start, length, token) of one line of YAML. Pure, so it is tested and
    timed without a document."""
    spans: list[tuple[int, int, Token]] = []
    cut = comment_start(line)
    code = line if cut < 0 else line[:cut]
    if cut >= 0:
        spans.append((cut, len(line) - cut, Token.COMMENT))
    position = 0
    key = _KEY.match(code)
    if key is not None:
        name = key.group(2)
        token = Token.ANCHOR if name == "<<" else Token.KEY
        spans.append((key.start(2), len(name), token))
        position = key.end()
    else:
        item = _LIST_ITEM.match(code)
        position = item.end() if item else 0
    _scan_value(code, position, spans)
    return spans


def _scan_value(code: str, position: int, spans: list[tuple[int, int, Token]]) -> None:
    """Colour what follows a key (or a list marker): a scalar, or the scalars of a flow
    collection such as `[a, "b", 3]`."""
    while position < len(code):
        char = code[position]
        if char in " \t,[]{}:":
            position += 1
            continue
        if char in "\"'":
            match = _QUOTED.match(code, position)
            assert match is not None  # the pattern always matches its opening quote
            spans.append((position, match.end() - position, Token.STRING))
            position = match.end()
            continue
        if char in "&*!":
            match = _ANCHOR.match(code, position)
            if match is not None and match.end() > position:
                spans.append((position, match.end() - position, Token.ANCHOR))
                position = match.end()
                continue
        scalar = _FLOW_SCALAR.match(code, position)
        if scalar is None or scalar.end() == position:
            position += 1
            continue
        text = scalar.group(0)
        if _NUMBER.fullmatch(text):
            spans.append((position, len(text), Token.NUMBER))
        elif _CONSTANT.fullmatch(text):
            spans.append((position, len(text), Token.CONSTANT))
        position = scalar.end()


class YamlHighlighter(QSyntaxHighlighter):
    """Colours a QTextDocument holding YAML. Call `set_dark` when the palette changes."""

    def __init__(self, document: QTextDocument, *, dark: bool = False) -> None:
        super().__init__(document)
        self._dark = dark
        self._formats = self._make_formats()

    @property
    def dark(self) -> bool:
        """Whether the dark-scheme colours are in use."""
        return self._dark

    def set_dark(self, dark: bool) -> None:
        """Switch to the light or dark colours (no-op when unchanged)."""
        if dark == self._dark:
            return
        self._dark = dark
        self._formats = self._make_formats()
        self.rehighlight()

    def format_for(self, token: Token) -> QTextCharFormat:
        """The character format used for `token`."""
        return self._formats[token]

    def _make_formats(self) -> dict[Token, QTextCharFormat]:
        formats: dict[Token, QTextCharFormat] = {}
        for token in Token:
            light, dark = token.value
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(dark if self._dark else light))
            if token is Token.COMMENT:
                fmt.setFontItalic(True)
            elif token is Token.KEY:
                fmt.setFontWeight(QFont.Weight.DemiBold)
            formats[token] = fmt
        return formats

    def highlightBlock(self, text: str) -> None:
        """Colour one line (Qt calls this per block)."""
        for start, length, token in scan_line(text):
            self.setFormat(start, length, self._formats[token])
