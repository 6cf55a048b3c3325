"""Start the GUI: the QApplication, the theme controller and the main window."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from llmproxy_desktop import __version__
from llmproxy_desktop.ops.self_check import startup_self_check
from llmproxy_desktop.ui.interpreter_tuning import tune_for_the_gui
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.pages.welcome import APP_NAME
from llmproxy_desktop.ui.resources import app_icon
from llmproxy_desktop.ui.stack_workspace import StackWorkspace
from llmproxy_desktop.ui.theme import ThemeController

ORGANIZATION_NAME = "LLM-Proxy"
DESKTOP_FILE_NAME = "llmproxy-desktop"
_PROGRAM = "llmproxy-desktop"


def _parse_gui_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Split our own options from the rest, which Qt gets (``-style``, ``-platform``, ...)."""
    parser = argparse.ArgumentParser(prog=_PROGRAM, add_help=False)
    # Hidden: smoke tests start the real GUI and let it close itself.
    parser.add_argument("--quit-after-ms", type=_non_negative_int, help=argparse.SUPPRESS)
    return parser.parse_known_args(list(argv))


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def create_application(qt_args: Sequence[str] = ()) -> QApplication:
    """Return the QApplication (created if needed) with the app's names and icon set.

    The names decide where QSettings keeps its file, so they are set before anything reads it.
    """
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([_PROGRAM, *qt_args])
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    app.setWindowIcon(app_icon())
    return app


def run_gui(argv: list[str]) -> int:
    """Run the desktop app until its window closes; return the process exit code.

    ``argv`` holds the command-line arguments without the program name. Besides Qt's own
    options it understands a hidden ``--quit-after-ms N`` that closes the window after N ms.
    """
    args, qt_args = _parse_gui_args(argv)
    tune_for_the_gui()
    app = create_application(qt_args)
    theme = ThemeController(app, parent=app)
    keyring = startup_self_check()
    window = MainWindow(QSettings(), keyring_warning=None if keyring.secure else keyring.message)
    runner = JobRunner(app)
    workspace = StackWorkspace(window, runner)
    window.show()
    QTimer.singleShot(0, workspace.start)
    if args.quit_after_ms is not None:
        QTimer.singleShot(args.quit_after_ms, window.close)
    try:
        return app.exec()
    finally:
        workspace.close()
        runner.shutdown()
        theme.stop()
