"""First run on a fresh machine: a clean clone of HEAD, `make demo`, and another clean clone, `make test` (both
install everything: Python lock with uv, npm lock), with empty uv and npm caches, so that nothing this machine
downloaded before is reused; then, warm, `make test-fast` in the second clone (the inner loop). Goals on a 2-core
machine: `make demo` within 3 minutes, `make test` within 4 (plain pytest-xdist, no custom scheduling), `make
test-fast` within 60 s. The reference printed beside each is the goal itself.

Needs network access to the package registries; takes 6-8 minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goals import exit_status, goal  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOALS_S = {"demo": 180.0, "test": 240.0, "test-fast": 60.0}


def first_run(target: str, work: Path, *, clone_name: str | None = None) -> tuple[float, int]:
    clone = work / f"clone-{clone_name or target}"
    if not clone.exists():
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(work / f"uv-cache-{clone_name or target}"),
        "npm_config_cache": str(work / f"npm-cache-{clone_name or target}"),
        "CI": "true",
    }
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    out = subprocess.run(["make", target], cwd=clone, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if out.returncode:
        print(out.stdout[-3000:], out.stderr[-3000:], sep="\n")
    return elapsed, out.returncode


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="clarify-kit-first-run-"))
    try:
        for target, clone, what in (
            ("demo", "demo", "fresh clone"),
            ("test", "test", "fresh clone"),
            ("test-fast", "test", "warm"),
        ):
            elapsed, code = first_run(target, work, clone_name=clone)
            limit = GOALS_S[target]
            print(
                f"  {what} -> make {target}: {elapsed:.0f} s ({elapsed / limit:.2f}x the {limit:.0f} s goal), "
                f"exit {code}",
                flush=True,
            )
            goal(f"{what} `make {target}` passed within {limit:.0f} s", code == 0 and elapsed <= limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
