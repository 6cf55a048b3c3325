"""Sheets: window-modal dialogs for one piece of input (HIG sheets, shown with `open()`).

Each module holds one sheet; `_form_*` modules hold the pieces several sheets share.
"""
