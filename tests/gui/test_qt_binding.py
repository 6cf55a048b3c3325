"""The Qt binding itself: PySide6 6.12.0 lost one reference to None on every call of a Qt method
returning void under Python 3.11, so a long-running window aborted ("none_dealloc") once the
app's references to None ran out. Pinned away from it; this test keeps it away."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject


def test_void_qt_calls_keep_the_reference_count_of_none() -> None:
    owner = QObject()
    before = sys.getrefcount(None)
    for _ in range(2000):
        owner.setObjectName("probe")
    # Other code may take or drop a few references meanwhile; a leak loses one per call.
    assert abs(sys.getrefcount(None) - before) < 100


def test_bool_returning_qt_calls_keep_the_reference_count_of_true() -> None:
    owner = QObject()
    owner.setObjectName("probe")
    before = sys.getrefcount(True)
    for _ in range(2000):
        owner.signalsBlocked()
        owner.blockSignals(False)
    assert abs(sys.getrefcount(True) - before) < 100
