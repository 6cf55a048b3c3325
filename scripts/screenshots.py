"""Render the app offscreen into docs/screenshots/*.png, in light and dark.

Usage: .venv/bin/python scripts/screenshots.py [--out DIR] [--scale N] [--only NAME ...]

Uses Qt's offscreen platform (no display needed) and QWidget.grab(), so the images are the
widgets' own pixels at a fixed window size, without window-manager decorations.

Shots: ``welcome`` (no stack yet) and one shot of the shell per entry of ``PAGES``. To add a
page, append a ``PageShot`` whose factory builds the page widget; every shot registers all
pages (so the sidebar looks real) and shows its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported only after the environment is set up, in main()
    from PySide6.QtWidgets import QWidget

REPO_ROOT = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (960, 640)
STACKS = ("prod", "staging")  # placeholder stacks the shell shots list in the switcher


@dataclass(frozen=True)
class PageShot:
    """One registered page: where it sits in the sidebar and how to build it."""

    section: str
    key: str
    title: str
    factory: Callable[[], QWidget]


def _placeholder(title: str) -> Callable[[], QWidget]:
    """A stand-in page until the real one exists: its title, centred."""

    def make() -> QWidget:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QLabel

        from llmproxy_desktop.ui.theme import TextStyle, text_font

        label = QLabel(title)
        label.setFont(text_font(TextStyle.TITLE_2))
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    return make


# The pages to register, in sidebar order. Replace a placeholder by the real page's factory.
PAGES: list[PageShot] = [
    PageShot("Overview", "dashboard", "Dashboard", _placeholder("Dashboard")),
    PageShot("Configuration", "models", "Models", _placeholder("Models")),
    PageShot("Configuration", "keys", "Provider Keys", _placeholder("Provider Keys")),
    PageShot("Configuration", "routing", "Routing", _placeholder("Routing")),
]


def main(argv: list[str]) -> int:
    """Write one PNG per shot and colour scheme; print each path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (e.g. 2)")
    parser.add_argument("--only", nargs="*", help="shot names (welcome, page keys) to render")
    args = parser.parse_args(argv)

    # Before Qt is imported: offscreen rendering, and settings and stacks that never touch the
    # user's own (QSettings and ProfileStore both follow XDG_CONFIG_HOME on Linux).
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    scratch = Path(tempfile.mkdtemp(prefix="llmproxy-screenshots-"))
    os.environ["XDG_CONFIG_HOME"] = str(scratch)

    from PySide6.QtCore import QSettings, Qt

    from llmproxy_desktop.remote.profiles import StackProfile
    from llmproxy_desktop.remote.profiles_store import ProfileStore
    from llmproxy_desktop.ui.app import create_application
    from llmproxy_desktop.ui.connection_indicator import ConnectionState
    from llmproxy_desktop.ui.main_window import MainWindow
    from llmproxy_desktop.ui.theme import ThemeController

    app = create_application()
    theme = ThemeController(app)
    empty_store = ProfileStore(scratch / "empty" / "stacks.json")
    stacks_store = ProfileStore(scratch / "stacks" / "stacks.json")
    for name in STACKS:
        stacks_store.add(StackProfile(name=name, host=f"{name}.example.net", compose_dir="/srv"))

    def window(store: ProfileStore) -> MainWindow:
        settings = QSettings(str(scratch / "screenshots.ini"), QSettings.Format.IniFormat)
        settings.clear()  # every shot starts as a first run: no remembered page or geometry
        return MainWindow(settings, profile_store=store)

    def welcome() -> QWidget:
        return window(empty_store)

    def shell(key: str) -> Callable[[], QWidget]:
        def make() -> QWidget:
            shown = window(stacks_store)
            for page in PAGES:
                shown.add_page(page.section, page.key, page.title, page.factory())
            shown.show_page(key)
            shown.connection_indicator.set_state(ConnectionState.CONNECTED)
            return shown

        return make

    shots: dict[str, Callable[[], QWidget]] = {"welcome": welcome}
    shots.update({page.key: shell(page.key) for page in PAGES})
    if args.only:
        shots = {name: make for name, make in shots.items() if name in args.only}
    schemes = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}

    args.out.mkdir(parents=True, exist_ok=True)
    for scheme_name, scheme in schemes.items():
        theme.apply(scheme)
        for shot_name, make_shot in shots.items():
            widget = make_shot()
            widget.resize(*WINDOW_SIZE)
            widget.show()
            app.processEvents()  # deliver the palette change and lay out before grabbing
            path = args.out / f"{shot_name}-{scheme_name}.png"
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
