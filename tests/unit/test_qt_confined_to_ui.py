"""Nothing outside llmproxy_desktop/ui imports Qt (GUIDE: the core, ops and CLI run headless)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "llmproxy_desktop"
QT_MODULES = {"PySide6", "shiboken6", "PyQt5", "PyQt6", "pytestqt"}


def _imported_top_level_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def test_only_the_ui_package_imports_qt() -> None:
    offenders = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "ui" not in path.relative_to(PACKAGE).parts[:1]
        and _imported_top_level_modules(path) & QT_MODULES
    )

    assert offenders == []


def test_the_scan_sees_the_ui_package_import_qt() -> None:
    ui_modules = list((PACKAGE / "ui").rglob("*.py"))

    assert any(_imported_top_level_modules(path) & QT_MODULES for path in ui_modules)
