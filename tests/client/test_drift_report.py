"""The drift report: the run report's Content-Security-Policy, bounded with many labels, safe with any name."""

from __future__ import annotations

from pathlib import Path

from clarify_kit.client.drift_report import MAX_LABELS_DRAWN, write_drift_report
from clarify_kit.core.drift import Partial, compare


def test_the_report_has_a_csp_draws_a_bounded_number_of_labels_and_escapes_every_name(tmp_path: Path) -> None:
    labels = [f"class\x00{k}" for k in range(MAX_LABELS_DRAWN + 3)]
    names = ["x\x00y", "<b>", "c"]
    base, cur = Partial(), Partial()
    for part, shift in ((base, 0.0), (cur, 0.3)):
        for i in range(3):
            part.add_record(names, labels, [[0.5 - shift, 0.2 + 0.01 * i, shift] for _ in labels])
    page = write_drift_report(compare(base, cur), tmp_path / "drift.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.count("<img ") == MAX_LABELS_DRAWN and "3 more labels" in page
    assert "\x00" not in page and "class\\x000" in page  # a NUL in a label is shown as an escape
