"""The Advanced page: the passthrough, i.e. the YAML of every key the app does not model.

The admin edits the raw text (comments and layout are kept: the Master stores it verbatim).
While they type, a debounced check parses it with the app's own YAML loader and validates the
config Apply would render with it (`core.validate.validate_items`), so duplicate keys, keys the
app manages (the managed value would win) and bad values show under the editor with their line.
The check renders the whole config (~60 ms for 2,000 models), so it runs off the GUI thread
(`BackgroundCheck`); Stage stays disabled until the answer for the text in the editor is back.
Only findings the passthrough causes are listed: problems elsewhere in the config are the other
pages' business and must not block this one. "Stage" hands the text to the `StagingEditor`.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QEvent, QRect, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from llmproxy_desktop.core.findings import Finding, Severity
from llmproxy_desktop.core.items import (
    PASSTHROUGH_NAME,
    EffectiveItem,
    Flag,
    Item,
    ItemKind,
)
from llmproxy_desktop.core.validate import validate_items
from llmproxy_desktop.ui.background_check import BackgroundCheck
from llmproxy_desktop.ui.deferred import DeferredWhileHidden
from llmproxy_desktop.ui.diff_highlighter import monospace_font
from llmproxy_desktop.ui.job_runner import error_sentence
from llmproxy_desktop.ui.staging import StagingEditor
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    TextStyle,
    is_dark,
    staged_accent,
    status_colour,
    text_font,
)
from llmproxy_desktop.ui.yaml_highlighter import YamlHighlighter

VALIDATE_DEBOUNCE_MS: Final = 300
INTRO_TEXT: Final = (
    "Keys of config.yaml the app does not manage, as YAML. They are written to the file as "
    "they are; keys managed on other pages win over the same keys here."
)
NO_PROBLEMS_TEXT: Final = "No problems found."
CHECKING_TEXT: Final = "Checking…"
FLAG_TEXT: Final = {
    Flag.NEW: "Staged: new. Apply writes it to the stack.",
    Flag.CHANGED: "Staged: changed. Apply writes it to the stack.",
    Flag.DELETED: "Staged: deleted. Apply removes these keys from the stack.",
}
CHANGED_ELSEWHERE_TEXT: Final = (
    "The passthrough was changed in the Master while you edited. Revert to see that version."
)

_LINE_IN_MESSAGE: Final = re.compile(r"\b[Ll]ine (\d+)\b")
_INDEX: Final = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class LocatedFinding:
    """A finding with the 1-based line of the passthrough it points at, when known."""

    finding: Finding
    line: int | None

    def text(self) -> str:
        """One line for the findings list."""
        severity = "Error" if self.finding.severity is Severity.ERROR else "Warning"
        # The loader's messages start "Line 3: "; the line goes in front once, not twice. The
        # message stays as written: it may start with a key name, which must keep its case.
        message = self.finding.message
        if message.startswith("Line "):
            message = message.split(": ", 1)[-1]
        where = f", line {self.line}" if self.line else ""
        return f"{severity}{where}: {message}"


# ------------------------------------------------------------------------------ pure checks


@dataclass(frozen=True)
class PassthroughCheck:
    """The answer of one check: the findings of the text, the baseline they were told from
    (kept for the next check of the same config) and how long the check took."""

    findings: tuple[LocatedFinding, ...]
    baseline: frozenset[Finding]
    elapsed_ms: float


def check_passthrough(
    text: str, effective: Sequence[EffectiveItem], baseline: frozenset[Finding] | None
) -> PassthroughCheck:
    """The findings `text` as passthrough causes (`passthrough_findings`), the baseline first
    computed when None. Pure, and slow for a big config (one or two full renders and
    validations): meant for a background thread."""
    started = time.perf_counter()
    if baseline is None:
        baseline = frozenset(validate_items(without_passthrough(effective)))
    findings = tuple(passthrough_findings(text, effective, baseline))
    return PassthroughCheck(findings, baseline, (time.perf_counter() - started) * 1000)


def with_passthrough(effective: Sequence[EffectiveItem], text: str) -> list[EffectiveItem]:
    """The effective items as they would be with `text` as the passthrough."""
    others = [e for e in effective if e.item.kind is not ItemKind.PASSTHROUGH]
    return [*others, EffectiveItem(Item(ItemKind.PASSTHROUGH, PASSTHROUGH_NAME, text))]


def without_passthrough(effective: Sequence[EffectiveItem]) -> list[EffectiveItem]:
    """The effective items without any passthrough: the baseline its findings are told from."""
    return [e for e in effective if e.item.kind is not ItemKind.PASSTHROUGH]


def passthrough_findings(
    text: str, effective: Sequence[EffectiveItem], baseline: frozenset[Finding]
) -> list[LocatedFinding]:
    """The findings that `text` as passthrough causes, with lines, errors first.

    A finding counts when it is about the passthrough itself (its path, or the loader's
    line-numbered notes with an empty path) or when the config without a passthrough
    (`baseline`) does not have it (e.g. an invalid router setting the passthrough adds).
    """
    shown = [
        f
        for f in validate_items(with_passthrough(effective, text))
        if not f.path or f.path.startswith("passthrough") or f not in baseline
    ]
    located = [LocatedFinding(f, finding_line(text, f)) for f in shown]
    located.sort(key=lambda lf: (lf.finding.severity is not Severity.ERROR, lf.line or 0))
    return located


def finding_line(text: str, finding: Finding) -> int | None:
    """The 1-based line a finding points at: from its message ("Line 3:", "at line 3") or by
    following its path's keys through the text; None when neither says."""
    match = _LINE_IN_MESSAGE.search(finding.message)
    if match is not None:
        return int(match.group(1))
    path = finding.path.removeprefix("passthrough")
    parts = [p for p in _INDEX.sub("", path).split(".") if p]
    return _line_of_keys(text, parts) if parts else None


def _line_of_keys(text: str, keys: Sequence[str]) -> int | None:
    """The line of the deepest of `keys` (nested in that order) found in the text."""
    lines = text.splitlines()
    found: int | None = None
    start, indent = 0, -1
    for key in keys:
        pattern = re.compile(rf"^(\s*)(?:-\s+)?[\"']?{re.escape(key)}[\"']?\s*:(?:\s|$)")
        for number in range(start, len(lines)):
            match = pattern.match(lines[number])
            if match is not None and len(match.group(1)) > indent:
                found, start, indent = number, number + 1, len(match.group(1))
                break
        else:
            break
    return None if found is None else found + 1


# ------------------------------------------------------------------------------ the editor


class YamlEdit(QPlainTextEdit):
    """A monospace plain-text editor with line numbers in a gutter and spaces for Tab."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(monospace_font())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._gutter = _LineNumberGutter(self)
        self.blockCountChanged.connect(self._fit_gutter)
        self.updateRequest.connect(self._scroll_gutter)
        self._fit_gutter()

    def gutter_width(self) -> int:
        """Width of the line-number gutter for the current number of lines."""
        digits = max(2, len(str(self.blockCount())))
        return 8 + self.fontMetrics().horizontalAdvance("9") * digits

    def go_to_line(self, line: int) -> None:
        """Put the cursor at the start of a 1-based line and show it."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        if block.isValid():
            cursor = QTextCursor(block)
            self.setTextCursor(cursor)
            self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Tab inserts two spaces: YAML does not allow tabs for indentation."""
        if event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.insertPlainText("  ")
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the gutter as tall as the viewport."""
        super().resizeEvent(event)
        rect = self.contentsRect()
        self._gutter.setGeometry(QRect(rect.left(), rect.top(), self.gutter_width(), rect.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        """Draw the numbers of the visible lines (only those: large texts stay fast)."""
        painter = QPainter(self._gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        width = self._gutter.width() - 4
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible() and bottom >= event.rect().top():
                number = str(block.blockNumber() + 1)
                painter.drawText(0, top, width, height, Qt.AlignmentFlag.AlignRight, number)
            block = block.next()
            top = bottom
        painter.end()

    def _fit_gutter(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())


class _LineNumberGutter(QWidget):
    def __init__(self, editor: YamlEdit) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._editor.paint_gutter(event)


# ------------------------------------------------------------------------------ the page


class AdvancedPage(DeferredWhileHidden):
    """The passthrough editor with live findings, Stage and Revert."""

    def __init__(self, editor: StagingEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("advancedPage")
        self._editor = editor
        self._effective: tuple[EffectiveItem, ...] = ()
        self._baseline: frozenset[Finding] | None = None  # None: not computed for these items
        self._base_text = ""
        self._version = 0
        self._flag: Flag | None = None
        self._findings: list[LocatedFinding] = []
        self._checked_text: str | None = None  # the text the findings belong to
        self._in_flight = False
        self.last_check_ms = 0.0  # how long the last check took (shown nowhere; for benches)
        self._check = BackgroundCheck(self)
        self._build()
        self._connect()
        self._refresh_state()

    def _build(self) -> None:
        title = QLabel("Advanced")
        title.setFont(text_font(TextStyle.TITLE_2))
        intro = QLabel(INTRO_TEXT)
        intro.setWordWrap(True)
        intro.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.flag_label = QLabel()
        self.flag_label.hide()
        self.text_edit = YamlEdit()
        self.text_edit.setAccessibleName("Passthrough YAML")
        self.highlighter = YamlHighlighter(self.text_edit.document(), dark=is_dark(self.palette()))
        self.status_label = QLabel(NO_PROBLEMS_TEXT)
        self.findings_list = QListWidget()
        self.findings_list.setAccessibleName("Problems")
        self.findings_list.setMaximumHeight(120)
        self.findings_list.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.revert_button = QPushButton("Revert")
        self.stage_button = QPushButton("Stage")
        self.stage_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.stage_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        for widget in (title, intro, self.flag_label):
            layout.addWidget(widget)
        layout.addWidget(self.text_edit, 1)
        layout.addWidget(self.findings_list)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self._paint_colours()

    def _connect(self) -> None:
        # Checking waits for a pause in typing: parsing and validating a large config on every
        # keystroke would make typing lag.
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(VALIDATE_DEBOUNCE_MS)
        self._check_timer.timeout.connect(self.check_now)
        self.text_edit.textChanged.connect(self._text_changed)
        self.findings_list.itemActivated.connect(self._go_to_finding)
        self.findings_list.itemClicked.connect(self._go_to_finding)
        self.stage_button.clicked.connect(self.stage)
        self.revert_button.clicked.connect(self.revert)

    # ------------------------------------------------------------------ data

    def set_items(self, effective: Sequence[EffectiveItem]) -> None:
        """Show the passthrough of these effective items (when the page is shown: validating a
        big config is not worth doing for a hidden page)."""
        items = list(effective)
        self.defer("items", lambda: self._apply_items(items))

    def _apply_items(self, effective: Sequence[EffectiveItem]) -> None:
        """Edits in progress are kept; if the Master's passthrough changed under them, a note
        says so."""
        self._effective = tuple(effective)
        self._baseline = None  # computed by the next check, off the GUI thread
        current = next((e for e in effective if e.item.kind is ItemKind.PASSTHROUGH), None)
        text = current.item.data if current and isinstance(current.item.data, str) else ""
        self._version = current.version if current else 0
        self._flag = current.flag if current else None
        edited = self.text() != self._base_text
        changed_elsewhere = edited and text != self._base_text and text != self.text()
        self._base_text = text
        # The rest of the config may have changed, so the last check is stale either way, and
        # so is the answer of a check still running.
        self._checked_text = None
        self._check.cancel()
        if not edited and text != self.text():
            self.text_edit.setPlainText(text)
        # else the same text (e.g. our own stage came back): the cursor stays where it is.
        self.check_now()  # at once: nobody is typing, and the check costs this thread nothing
        if changed_elsewhere:
            self._show_error(CHANGED_ELSEWHERE_TEXT)
        self._show_flag()
        self._refresh_state()

    def text(self) -> str:
        """The text in the editor."""
        return self.text_edit.toPlainText()

    def findings(self) -> list[LocatedFinding]:
        """The findings of the last check."""
        return list(self._findings)

    @property
    def is_changed(self) -> bool:
        """Whether the editor differs from the Master's passthrough."""
        return self.text() != self._base_text

    @property
    def is_checked(self) -> bool:
        """Whether the findings shown belong to the text in the editor."""
        return self._checked_text == self.text()

    # ------------------------------------------------------------------ checking

    @property
    def is_checking(self) -> bool:
        """Whether a check is on its way (started, or waiting for a pause in typing)."""
        return self._check.is_pending() or self._check_timer.isActive()

    def check_now(self) -> None:
        """Start checking the editor's text (the debounce timer calls this); the findings
        arrive in `_checked`, unless newer text or items overtook the check."""
        self._check_timer.stop()
        text = self.text()
        self.status_label.setText(CHECKING_TEXT)
        self._check.submit(
            functools.partial(check_passthrough, text, self._effective, self._baseline),
            functools.partial(self._checked, text),
            self._check_failed,
        )
        self._refresh_state()

    def _checked(self, text: str, result: PassthroughCheck) -> None:
        self._baseline = result.baseline
        self._findings = list(result.findings)
        self.last_check_ms = result.elapsed_ms
        self._checked_text = text
        self._show_findings()
        self._refresh_state()

    def _check_failed(self, error: Exception) -> None:
        self._findings = []
        self._checked_text = None  # unchecked: Stage stays disabled
        self.findings_list.clear()
        self.findings_list.hide()
        self.status_label.setText(error_sentence("Checking", error))
        self._refresh_state()

    def _text_changed(self) -> None:
        self._check.cancel()  # its answer would be for a text no longer in the editor
        self._check_timer.start()
        self.status_label.setText(CHECKING_TEXT)
        self._refresh_state()

    def _show_findings(self) -> None:
        self.findings_list.clear()
        bad = status_colour(StatusColour.BAD, self.palette())
        for located in self._findings:
            entry = QListWidgetItem(located.text())
            entry.setToolTip(located.finding.message)
            entry.setData(Qt.ItemDataRole.UserRole, located.line)
            if located.finding.severity is Severity.ERROR:
                entry.setForeground(bad)
            self.findings_list.addItem(entry)
        self.findings_list.setVisible(bool(self._findings))
        self.status_label.setText(_count_text(self._findings))

    def _go_to_finding(self, entry: QListWidgetItem) -> None:
        line = entry.data(Qt.ItemDataRole.UserRole)
        if isinstance(line, int):
            self.text_edit.go_to_line(line)

    # ------------------------------------------------------------------ stage / revert

    def stage(self) -> None:
        """Hand the text to the editor as the new passthrough (only when valid and changed)."""
        if not self.stage_button.isEnabled():
            return
        text = self.text()
        item = Item(ItemKind.PASSTHROUGH, PASSTHROUGH_NAME, text)
        self._in_flight = True
        self.error_label.hide()
        self._refresh_state()
        self._editor.stage([(item, self._version)], lambda answer: self._staged(text, answer))

    def revert(self) -> None:
        """Throw away the edit: back to the Master's passthrough."""
        self.error_label.hide()
        self.text_edit.setPlainText(self._base_text)

    def _staged(self, text: str, answer: str | None) -> None:
        if not isValid(self):  # the page was closed while the edit was in flight
            return
        self._in_flight = False
        if answer is not None:
            self._show_error(answer)
        else:
            # The store holds this text now; the controller's set_items brings its flag and
            # version. Until then the text must not count as changed, or Stage would re-offer it.
            self._base_text = text
        self._refresh_state()

    def _show_error(self, sentence: str) -> None:
        self.error_label.setText(sentence)
        self.error_label.show()

    # ------------------------------------------------------------------ state and colours

    def _refresh_state(self) -> None:
        errors = any(f.finding.severity is Severity.ERROR for f in self._findings)
        valid = self.is_checked and not errors
        self.stage_button.setEnabled(valid and self.is_changed and not self._in_flight)
        self.revert_button.setEnabled(self.is_changed and not self._in_flight)

    def _show_flag(self) -> None:
        if self._flag is None:
            self.flag_label.hide()
            return
        self.flag_label.setText(FLAG_TEXT[self._flag])
        self.flag_label.show()

    def flag_colour(self) -> QColor:
        """The colour of the staged-state note (the staged accent)."""
        return self.flag_label.palette().color(QPalette.ColorRole.WindowText)

    def _paint_colours(self) -> None:
        palette = QPalette(self.palette())
        palette.setColor(QPalette.ColorRole.WindowText, staged_accent(self.palette()))
        self.flag_label.setPalette(palette)
        error = QPalette(self.palette())
        error.setColor(QPalette.ColorRole.WindowText, status_colour(StatusColour.BAD, palette))
        self.error_label.setPalette(error)
        self.highlighter.set_dark(is_dark(self.palette()))

    def changeEvent(self, event: QEvent) -> None:
        """Follow light/dark mode: accent, error colour and syntax colours."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._paint_colours()
            if self._findings:
                self._show_findings()


def _count_text(findings: Sequence[LocatedFinding]) -> str:
    errors = sum(1 for f in findings if f.finding.severity is Severity.ERROR)
    warnings = len(findings) - errors
    if not findings:
        return NO_PROBLEMS_TEXT
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) + (": fix errors before staging." if errors else ".")
