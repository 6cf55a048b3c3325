"""Where the files under the repository's ``resources/`` directory live at run time."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    """Return the ``resources/`` directory of a source checkout or of a frozen (PyInstaller) build.

    The directory sits next to the package in the source tree (``pip install -e``); a PyInstaller
    bundle unpacks it under ``sys._MEIPASS``. This function is the one place to change when the
    resources move into the package for wheel builds.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of a file under ``resources/`` (it may not exist)."""
    return resources_dir().joinpath(*parts)


def app_icon() -> QIcon:
    """Return the application icon (a null icon if the SVG is missing, never an error)."""
    path = resource_path("icons", "app.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()
