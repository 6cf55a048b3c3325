"""The Models page: every model deployment of the stack, grouped by model group, with search,
Add / Duplicate / Delete and the edit sheet.

The page never decides flags itself: after a successful stage it emits `staged`, and whoever owns
the store reads the effective items again and calls `set_items` (GUIDE: flags come from the
store). It reaches the store only through the asynchronous `StagingEditor` (ui/staging.py):
answers arrive on the GUI thread and refusals are shown as sentences, never tracebacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.catalog import Catalog
from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind, model_group
from llmproxy_desktop.ui.models_table import ITEM_ROLE, Column, ModelsFilterProxy, ModelsTableModel
from llmproxy_desktop.ui.sheets.model_sheet import ModelSheet, suggest_group_name
from llmproxy_desktop.ui.staging import ModelTester, StagingEditor
from llmproxy_desktop.ui.theme import CONTROL_SPACING, WINDOW_MARGIN

SEARCH_DEBOUNCE_MS: Final = 150
EMPTY_TEXT: Final = "No models yet. Add a model to route requests to a provider."
NO_MATCH_TEXT: Final = "No models match “{}”."


def delete_action_text(items: Sequence[EffectiveItem]) -> str:
    """The destructive button's text: "Delete model gpt-4o" or "Delete 3 models"."""
    if len(items) == 1:
        return f"Delete model {model_group(items[0].item) or items[0].item.name}"
    return f"Delete {len(items)} models"


class ModelsPage(QWidget):
    """Toolbar (search, Add Model, Duplicate, Delete), the models table and an inline error."""

    staged = Signal()  # a stage or delete succeeded: re-read the effective items

    def __init__(
        self,
        editor: StagingEditor,
        catalog: Catalog | None = None,
        parent: QWidget | None = None,
        *,
        tester: ModelTester | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelsPage")
        self._editor = editor
        self._tester = tester
        self._testing: str | None = None  # the group whose test is in flight
        self._credentials: list[str] = []
        self._catalog = catalog
        self.sheet: ModelSheet | None = None
        self.confirm_box: QMessageBox | None = None
        self.confirm_button: QPushButton | None = None  # the destructive one, while asking
        self.table_model = ModelsTableModel(self)
        self.proxy = ModelsFilterProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self._build()
        self._connect()
        self._refresh_state()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search models")
        self.add_button = QPushButton("Add Model…")
        self.duplicate_button = QPushButton("Duplicate…")
        self.delete_button = QPushButton("Delete…")
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip(
            "Send one short chat completion to the selected model's group through the proxy "
            "(a real, billed request of a few tokens)"
        )
        self.test_button.setVisible(self._tester is not None)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.search, 1)
        for button in (self.test_button, self.add_button, self.duplicate_button):
            toolbar.addWidget(button)
        toolbar.addWidget(self.delete_button)
        self.test_label = QLabel()
        self.test_label.setWordWrap(True)
        self.test_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_label.hide()
        self.table = self._make_table()
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addLayout(toolbar)
        layout.addWidget(self.error_label)
        layout.addWidget(self.test_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(False)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        # Fixed row heights and no content-based column sizing: both would measure 2,000 rows.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The Model column takes the slack, so Status stays in view at the default window size.
        header.setSectionResizeMode(Column.MODEL, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (Column.GROUP, 170),
            (Column.PROVIDER, 90),
            (Column.CREDENTIAL, 150),
            (Column.STATUS, 80),
        ):
            table.setColumnWidth(column, width)
        return table

    def _connect(self) -> None:
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(self._search_timer.start)
        QShortcut(QKeySequence.StandardKey.Find, self, self.focus_search)
        self.add_button.clicked.connect(self.add_model)
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.test_button.clicked.connect(self.test_selected)
        # activated = Enter, and double-click (or single click where the platform says so);
        # connecting doubleClicked as well would open two sheets.
        self.table.activated.connect(self._edit_index)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._refresh_state)

    # ------------------------------------------------------------------ data

    def set_items(self, effective: list[EffectiveItem]) -> None:
        """Show these effective items (models in the table; live credentials are what the sheet
        offers). Keeps the search."""
        self._credentials = sorted(
            e.item.name
            for e in effective
            if e.item.kind is ItemKind.CREDENTIAL and not e.is_deleted
        )
        self.table_model.set_items(effective)
        self._refresh_state()

    def visible_items(self) -> list[EffectiveItem]:
        """The items of the rows the filter lets through, in display order."""
        return [self._item_at(self.proxy.index(r, 0)) for r in range(self.proxy.rowCount())]

    def selected_items(self) -> list[EffectiveItem]:
        """The items of the selected rows, in display order."""
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self._item_at(self.proxy.index(r, 0)) for r in rows]

    def select_rows(self, rows: Sequence[int]) -> None:
        """Select these (filtered) rows; for keyboard-free callers and tests."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            selection.select(self.proxy.index(row, 0), flags)

    def _item_at(self, index: QModelIndex) -> EffectiveItem:
        item = self.proxy.data(index, ITEM_ROLE)
        assert isinstance(item, EffectiveItem)
        return item

    # ------------------------------------------------------------------ search

    def focus_search(self) -> None:
        """Ctrl/Cmd+F: put the cursor in the search field, its text selected."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _apply_search(self) -> None:
        self.proxy.set_search(self.search.text())
        self._refresh_state()

    # ------------------------------------------------------------------ state

    def _refresh_state(self) -> None:
        live = [e for e in self.selected_items() if not e.is_deleted]
        self.duplicate_button.setEnabled(len(live) == 1)
        self.delete_button.setEnabled(bool(live))
        self.test_button.setEnabled(self._testable() is not None and self._testing is None)
        has_rows = self.proxy.rowCount() > 0
        self.table.setVisible(has_rows)
        self.empty_label.setVisible(not has_rows)
        if self.table_model.rowCount() == 0:
            self.empty_label.setText(EMPTY_TEXT)
        elif not has_rows:
            self.empty_label.setText(NO_MATCH_TEXT.format(self.search.text().strip()))

    def show_error(self, text: str) -> None:
        """Show a sentence above the table (empty text hides it)."""
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # ------------------------------------------------------------------ test

    def _testable(self) -> str | None:
        """The model group of the one selected row, if LiteLLM serves it (applied, not new)."""
        selected = self.selected_items()
        if len(selected) != 1 or selected[0].flag is Flag.NEW:
            return None
        return model_group(selected[0].item)

    def test_selected(self) -> None:
        """Ask the tester to send one chat completion to the selected model's group."""
        group = self._testable()
        if group is None or self._tester is None or self._testing is not None:
            return
        self._testing = group
        self._show_test(f"Testing {group}…")
        self._refresh_state()
        self._tester.test_model(group, lambda error, text: self._tested(group, error, text))

    def _tested(self, group: str, error: str | None, text: str) -> None:
        self._testing = None
        self._show_test(f"{group}: {error}" if error is not None else f"{group} {text}")
        self._refresh_state()

    def _show_test(self, text: str) -> None:
        self.test_label.setText(text)
        self.test_label.setVisible(bool(text))

    # ------------------------------------------------------------------ actions

    def add_model(self) -> None:
        """Open the sheet for a new model."""
        self._open_sheet(None, 0, None)

    def duplicate_selected(self) -> None:
        """Open the sheet prefilled with the selected model under a new group name."""
        live = [e for e in self.selected_items() if not e.is_deleted]
        if len(live) != 1:
            return
        original = live[0].item
        taken = (row.cells[Column.GROUP] for row in self.table_model.rows)
        suggestion = suggest_group_name(model_group(original) or "model", taken)
        self._open_sheet(original, 0, suggestion)

    def edit(self, effective: EffectiveItem) -> None:
        """Open the sheet on one model (a model staged for deletion is not editable)."""
        if effective.is_deleted:
            self.show_error("This model is staged for deletion; discard that change to edit it.")
            return
        self._open_sheet(effective.item, effective.version, None)

    def _edit_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.edit(self._item_at(index))

    def _open_sheet(self, item: Item | None, version: int, duplicate_as: str | None) -> None:
        self.show_error("")
        sheet = ModelSheet(
            lambda new, done: self._editor.stage([(new, version)], done),
            catalog=self._catalog,
            credential_names=self._credentials,
            item=item,
            duplicate_as=duplicate_as,
            parent=self,
        )
        sheet.saved.connect(lambda _item: self.staged.emit())
        sheet.finished.connect(lambda _result: self._sheet_closed(sheet))
        self.sheet = sheet
        sheet.open()

    def _sheet_closed(self, sheet: ModelSheet) -> None:
        if self.sheet is sheet:
            self.sheet = None
        sheet.deleteLater()

    def delete_selected(self) -> None:
        """Ask, with a button naming the action, then stage the deletions."""
        targets = [e for e in self.selected_items() if not e.is_deleted]
        if not targets:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(f"{delete_action_text(targets)}?")
        box.setInformativeText("The deletion is staged: the gateway keeps serving it until Apply.")
        self.confirm_button = box.addButton(
            delete_action_text(targets), QMessageBox.ButtonRole.DestructiveRole
        )
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _r: self._delete_answered(box, targets))
        self.confirm_box = box
        box.open()

    def _delete_answered(self, box: QMessageBox, targets: list[EffectiveItem]) -> None:
        self.confirm_box = None
        box.deleteLater()
        confirmed = self.confirm_button is not None and box.clickedButton() is self.confirm_button
        self.confirm_button = None
        if not confirmed:
            return
        self._editor.delete([(t.item.key, t.version) for t in targets], self._deleted)

    def _deleted(self, error: str | None) -> None:
        """The editor's answer to a delete (on the GUI thread)."""
        self.show_error(error or "")
        if error is None:
            self.staged.emit()
