"""One BLAS thread for the explainer's own numpy work (and, in its own processes, a garbage collector that runs
rarely and an allocator that keeps its pages).

The explainer shares its instance with the model server. Its matrix products are tiny (a 49 x 2,148 product at
50 features), and OpenBLAS's default of a thread per core makes them wait for a core the model is using: measured
with both cores busy, 55 ms instead of 2.2 ms. The explainer's processes (serve-local, serve-container) pin BLAS to
one thread at start (``pin_process``); the engine, called in a user's own process, limits it only for the duration
of its own products (``one_thread``) and restores whatever the user had. Neither touches the environment, so a model
server started by the explainer keeps its own threads. Without threadpoolctl (it comes with the ``local`` extra)
both do nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

__all__ = ["one_thread", "pin_process"]

_controller: Any = None
_lock = threading.Lock()
_pinned = False


def _get() -> Any:
    global _controller
    if _controller is None:
        with _lock:
            if _controller is None:
                try:
                    import numpy  # noqa: F401  (its BLAS must be loaded for the controller to see it)
                    from threadpoolctl import ThreadpoolController
                except ModuleNotFoundError:
                    _controller = False
                else:
                    _controller = ThreadpoolController()
    return _controller


def pin_process() -> None:
    """Pin this process's BLAS to one thread for good (the explainer's own processes), and let its garbage
    collector run rarely: a request's synthetic rows are thousands of short-lived strings and lists without
    cycles (reference counting frees them), which at the default thresholds set off a collection every few
    hundred rows; what was loaded at start is frozen out of every later collection. And glibc's allocator keeps
    the pages it has (see _keep_pages)."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    _keep_pages()
    global _pinned
    controller = _get()
    if controller:
        controller.limit(limits=1, user_api="blas")
        _pinned = True


@contextmanager
def one_thread() -> Iterator[None]:
    """BLAS on one thread within the block, restored after (a no-op once the process is pinned)."""
    controller = _get()
    with nullcontext() if not controller or _pinned else controller.limit(limits=1, user_api="blas"):
        yield


# glibc's mallopt parameters (malloc.h) and what the explainer's processes set them to.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_BYTES = 64 << 20  # free memory at the heap's top kept for the next request instead of given back
_MMAP_BYTES = 8 << 20  # blocks larger than this still get pages of their own (a MaxPayloadInMB body is 6 MB at most)


def _keep_pages() -> None:
    """A request's batches are blocks of a few hundred kilobytes, made and freed again for every record. By default
    glibc gives such blocks pages of their own, or hands freed heap memory back to the system, so every request
    faults fresh pages in again (about 480 page faults and 2 ms of system time per record at 50 features). Here
    the heap keeps up to 64 MiB of freed memory, and only blocks over 8 MiB are mapped apart. This process only
    (mallopt, not the MALLOC_ environment variables, which a model server started from here would inherit); a
    no-op on a C library other than glibc."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES)
    mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES)
