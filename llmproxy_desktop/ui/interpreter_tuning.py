"""Keep the CPython interpreter from stalling the window (issue #5 §5: no stall over 50 ms).

Three causes, measured with bench/bench_gui_lag.py on a 2,000-model stack:
- **GIL convoy.** While a background thread runs Python (Advanced's live check, a render on the
  stack's worker), every call from Qt into Python on the GUI thread (a slot, a model's data(),
  a paint hook) waits for the GIL, up to the switch interval each: with the default 5 ms, one
  repaint waited 60-80 ms in all while using 3 ms of CPU. `tune_for_the_gui()` sets 1 ms
  (stalls fell to ~25 ms, all of it the GUI thread's own work); the background work pays a
  little in extra switches.
- **Full collections.** A full collection walks every tracked object holding the GIL, so it
  stops the GUI thread whichever thread runs it. Once connected, the heap holds ~150,000 objects
  (Qt, SQLAlchemy, paramiko, docker, httpx and the app's modules): 50-90 ms per collection.
  `freeze_heap_once()`, after the first snapshot is shown (every heavy module is imported by
  then), moves all live objects to the permanent generation, which collections skip (later full
  collections: 3-8 ms). They are still freed by reference counting; only cycles among them are
  never collected, a bounded one-time cost.
- **Allocation churn.** A 2,000-model validation allocates hundreds of thousands of short-lived
  tuples, which trigger collections although reference counting frees them; `collections_held()`
  holds automatic collections off around such a background check.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Iterator

__all__ = ["collections_held", "freeze_heap_once", "tune_for_the_gui"]

GUI_SWITCH_INTERVAL_S = 0.001

_lock = threading.Lock()
_holders = 0
_reenable = False
_frozen = False


def tune_for_the_gui() -> None:
    """Call once before the window shows: a GIL switch interval that keeps Qt's calls into
    Python on the GUI thread from queueing behind a busy background thread."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def freeze_heap_once() -> bool:
    """Freeze the heap the first time it is called in this process; True when it did."""
    global _frozen
    with _lock:
        if _frozen:
            return False
        _frozen = True
    gc.freeze()
    return True


@contextlib.contextmanager
def collections_held() -> Iterator[None]:
    """No automatic collection while any caller is inside; the collector's state is restored
    when the last one leaves (so a collector someone else disabled stays disabled)."""
    global _holders, _reenable
    with _lock:
        if _holders == 0:
            _reenable = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _reenable:
                gc.enable()
