"""The Qt half of `self-check` (self_check_cli.py): the Qt modules load, and the real main window
with its pages opens and closes offscreen. Failures raise RuntimeError with one sentence."""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["open_and_close_main_window", "qt_modules_loaded"]


def qt_modules_loaded(modules: Sequence[str]) -> str:
    """Import every Qt module the app uses; say which PySide6 it is."""
    for name in modules:
        importlib.import_module(name)
    from PySide6 import __version__ as pyside_version

    return f"PySide6 {pyside_version}: {', '.join(m.removeprefix('PySide6.') for m in modules)}"


def open_and_close_main_window() -> str:
    """Open the real main window with its pages, then close it. It reads and writes only a
    throwaway settings file and stacks file, never the admin's own."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ..remote.profiles_store import ProfileStore
    from .app import create_application
    from .job_runner import JobRunner
    from .main_window import MainWindow
    from .resources import app_icon
    from .stack_workspace import StackWorkspace

    app = create_application()
    # The SVG icon needs Qt's image plugins (and QtSvg beneath them) in the bundle.
    if app_icon().pixmap(32, 32).isNull():
        raise RuntimeError("the app icon does not render (SVG image plugin missing?)")
    with tempfile.TemporaryDirectory(prefix="llmproxy-self-check-") as scratch:
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        store = ProfileStore(Path(scratch) / "stacks.json")
        window = MainWindow(settings, profile_store=store)
        runner = JobRunner(app)
        workspace = StackWorkspace(window, runner, profile_store=store)
        try:
            window.show()
            QApplication.processEvents()
            if not window.isVisible():
                raise RuntimeError("the main window did not show")
            pages = window.pages.count()
            window.close()
            QApplication.processEvents()
            if window.isVisible():
                raise RuntimeError("the main window did not close")
        finally:
            workspace.close()
            runner.shutdown()
            window.deleteLater()
            QApplication.processEvents()
            settings.sync()
    return f"opened and closed on {app.platformName()} ({pages} pages)"
