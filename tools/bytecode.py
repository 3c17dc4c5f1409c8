"""Compile, once and on every core, the bytecode of the libraries the test suite imports.

uv installs without compiling (compiling all of .venv takes 37 s on two cores for 16,000 files, of which the
suite imports a third), so in a fresh clone each module is compiled by the first process that imports it. When
the tests start, dozens of processes on both cores import the same libraries at the same moment, and each of them
compiles them: a fresh clone's `make test` used about 35 s more CPU than the second run, for 13 s of compiling.

    python tools/bytecode.py compile   # `make test`: compile the recorded directories (beside mypy)
    python tools/bytecode.py record    # `make durations`: record the directories one serial run imported from

The record (tests/bytecode-dirs.txt) lists site-packages directories, relative to site-packages; each is compiled
whole but not recursively, and so are the kit's own packages. It is a cache warmer only: a directory missing from
it costs time, never a failure.
"""

from __future__ import annotations

import argparse
import compileall
import os
import signal
import sys
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "tests" / "bytecode-dirs.txt"
SITE = Path(sysconfig.get_paths()["purelib"])
TAG = sys.implementation.cache_tag


def _compile(directories: list[str]) -> int:
    compiled = 0
    for directory in directories:
        path = SITE / directory
        if path.is_dir():
            compileall.compile_dir(path, maxlevels=0, quiet=2)
            compiled += 1
    return compiled


def _own_packages() -> list[str]:
    """The kit's own packages (pytest compiles the tests itself, rewriting their asserts)."""
    return [str(init.parent) for pattern in ("*/__init__.py", "*/*/__init__.py") for init in ROOT.glob(pattern)
            if init.parts[len(ROOT.parts)] not in ("tests", "build", "node_modules")]


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: no traceback per worker


def compile_recorded(workers: int) -> int:
    recorded = RECORD.read_text().splitlines() if RECORD.exists() else []
    directories = [line for line in recorded if line and not line.startswith("#")] + _own_packages()
    batches = [directories[k:k + 20] for k in range(0, len(directories), 20)]  # small: Ctrl-C stops within a batch
    pool = ProcessPoolExecutor(workers, initializer=_ignore_interrupts)
    try:
        return sum(pool.map(_compile, batches))
    finally:
        pool.shutdown(cancel_futures=True)


def record() -> int:
    # plain bytecode only: optimized (.opt-1) and pytest's rewritten files end otherwise
    directories = sorted({str(pyc.parent.parent.relative_to(SITE)) for pyc in SITE.rglob(f"__pycache__/*.{TAG}.pyc")})
    RECORD.write_text("# site-packages directories the test suite imports from (python tools/bytecode.py record)\n"
                      + "\n".join(directories) + "\n")
    return len(directories)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["compile", "record"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.command == "record":
        print(f"{RECORD.relative_to(ROOT)}: {record()} directories")
    else:
        count = compile_recorded(args.workers)
        print(f"bytecode of {count} directories compiled in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # each .pyc is written atomically: an interrupted run leaves nothing half-written
        print("tools/bytecode.py: interrupted", file=sys.stderr)
        sys.exit(130)
