"""Progress of a bulk run on stderr: a bar on a terminal, a plain line now and then in a CI log."""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO

from clarify_kit.client.bulk.outcomes import RecordOutcome

__all__ = ["Progress"]


class Progress:
    """A tqdm bar (percentage, rate, ETA, failures) on a terminal; a plain line every 10 s and at the end when
    stderr is a CI log, where a bar's carriage returns would pile up on one line."""

    PLAIN_EVERY_S = 10.0

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.done, self.failed, self.stream = total, 0, 0, stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.lock = threading.Lock()
        self.started = self.last = time.monotonic()
        self.bar: Any = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                file=stream,
                desc="explain",
                unit="rec",
                dynamic_ncols=True,
                smoothing=0.1,
                postfix={"failed": 0},
            )

    def advance(self, outcomes: list[RecordOutcome]) -> None:
        if self.stream is None:
            return
        with self.lock:
            self.done += len(outcomes)
            failed = sum(1 for o in outcomes if o.status == "failed")
            self.failed += failed
            if self.bar is not None:
                if failed:
                    self.bar.set_postfix(failed=self.failed, refresh=False)
                self.bar.update(len(outcomes))
                if self.done >= self.total:
                    self.bar.close()
                return
            self._plain_line()

    def _plain_line(self) -> None:
        assert self.stream is not None
        now = time.monotonic()
        finished = self.done >= self.total
        if not (finished or now - self.last >= self.PLAIN_EVERY_S):
            return
        self.last = now
        rate = self.done / max(1e-9, now - self.started)
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if rate and not finished else ""
        self.stream.write(
            f"explain: {self.done}/{self.total} records ({self.done / max(1, self.total):.0%}), "
            f"{self.failed} failed, {rate:.1f} rec/s{eta}\n"
        )
        self.stream.flush()

    def close(self) -> None:
        """Leave the bar where it stopped (an interrupted run), so the next line starts on a line of its own."""
        if self.bar is not None:
            with self.lock:
                self.bar.close()
