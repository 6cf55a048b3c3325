"""Render each page of the app offscreen into docs/screenshots/*.png, in light and dark.

Usage: .venv/bin/python scripts/screenshots.py [--out DIR] [--scale N]

Uses Qt's offscreen platform (no display needed) and QWidget.grab(), so the images are the
widgets' own pixels at a fixed window size, without window-manager decorations.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (960, 640)


def main(argv: list[str]) -> int:
    """Write one PNG per page and colour scheme; print each path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (e.g. 2)")
    args = parser.parse_args(argv)

    # Before Qt is imported: offscreen rendering, and settings that never touch the user's own.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="llmproxy-screenshots-")

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QWidget

    from llmproxy_desktop.ui.app import create_application
    from llmproxy_desktop.ui.main_window import MainWindow
    from llmproxy_desktop.ui.theme import ThemeController

    app = create_application()
    theme = ThemeController(app)
    settings_file = Path(os.environ["XDG_CONFIG_HOME"]) / "screenshots.ini"

    def welcome() -> QWidget:
        return MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))

    pages: dict[str, Callable[[], QWidget]] = {"welcome": welcome}
    schemes = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}

    args.out.mkdir(parents=True, exist_ok=True)
    for scheme_name, scheme in schemes.items():
        theme.apply(scheme)
        for page_name, make_page in pages.items():
            widget = make_page()
            widget.resize(*WINDOW_SIZE)
            widget.show()
            app.processEvents()  # deliver the palette change and lay out before grabbing
            path = args.out / f"{page_name}-{scheme_name}.png"
            if not widget.grab().save(str(path)):
                print(f"error: could not write {path}", file=sys.stderr)
                return 1
            print(path)
            widget.close()
            widget.deleteLater()
    theme.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
