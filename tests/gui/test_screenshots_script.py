"""scripts/screenshots.py renders real pages under Xvfb (issue #5 §4): run it for two shots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "screenshots.py"


def _colours(image: QImage) -> set[int]:
    """The distinct pixel values of a sample grid (every 8th pixel each way)."""
    return {
        image.pixel(x, y) for x in range(0, image.width(), 8) for y in range(0, image.height(), 8)
    }


def test_the_script_renders_pages_in_light_and_dark_under_xvfb(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--only", "dashboard", "routing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == [
        "dashboard-dark.png",
        "dashboard-light.png",
        "routing-dark.png",
        "routing-light.png",
    ]
    for name in names:
        image = QImage(str(tmp_path / name))
        assert not image.isNull() and image.width() >= 900 and image.height() >= 600, name
        assert len(_colours(image)) > 20, f"{name} looks blank"  # text, cards, sidebar
    light, dark = (
        QImage(str(tmp_path / "dashboard-light.png")),
        QImage(str(tmp_path / "dashboard-dark.png")),
    )
    # The window background: light in one, dark in the other (sampled inside the page area).
    assert light.pixelColor(600, 560).lightness() > 160
    assert dark.pixelColor(600, 560).lightness() < 96
