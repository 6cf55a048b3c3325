"""Tables as CSV text: what the Usage page's export buttons and `usage ... --csv` write.

RFC 4180 quoting (comma, quote, CR/LF inside a cell are quoted, quotes doubled), CRLF line ends
as spreadsheets expect. Text cells that a spreadsheet would read as a formula (=, +, -, @, tab,
CR first) get a leading apostrophe: key aliases, user ids and model names are chosen by other
people, and an exported file must not run anything when opened (OWASP "CSV injection").
Numbers are written as they are, so a negative figure stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

__all__ = ["Cell", "to_csv"]

Cell = str | int | float | bool | date | datetime | None

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """`header` then `rows` as CSV text (RFC 4180, CRLF), formula-like text cells defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_cell_text(name) for name in header])
    for row in rows:
        writer.writerow([_cell_text(value) for value in row])
    return buffer.getvalue()
