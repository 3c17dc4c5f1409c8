"""Benchmark goals: each check prints its verdict next to the figures; a benchmark exits 1 when one was missed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_missed: list[str] = []


def goal(description: str, met: bool) -> None:
    """Print whether the goal ``description`` was met in this run, and remember a miss."""
    print(f"  goal {'met' if met else 'MISSED'}: {description}", flush=True)
    if not met:
        _missed.append(description)


def exit_status() -> int:
    """1 when any goal of this process was missed, else 0."""
    return 1 if _missed else 0


@contextmanager
def busy_cores(seconds: float, count: int | None = None) -> Iterator[None]:
    """A process spinning on each core (or ``count`` of them), for at most ``seconds``: an instance as busy as a
    model server keeps it."""
    spin = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"
    children = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count or os.cpu_count() or 2)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for child in children:
            child.kill()
            child.wait()
