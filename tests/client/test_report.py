"""The HTML report of a run: every section, self-contained (nothing fetched), the same for CSV, JSON Lines,
multiclass, text and runs with failed records; opened in a real browser (headless Chromium) with the network off,
where the table sorts and no script fails."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from clarify_kit.client.report import SCRIPT_HASH, read_explain_output
from tests.helpers import example_path, run_cli

LOCAL_ENV = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
SECTIONS = ["summary", "latency", "additivity", "settings", "plots", "waterfalls", "table"]
BINARY = example_path("binary").parent / "records.csv"


class _Page(HTMLParser):
    """Section ids, image sources and every URL-carrying attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("id"):
            self.sections.append(str(found["id"]))
        if tag == "img":
            self.images.append(str(found.get("src")))
        self.urls += [str(v) for k, v in attrs if k in ("src", "href", "action", "data") and v]


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="session")
def reports(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Reports of real runs: explain on CSV, on JSON Lines (multiclass), on text, one with failed records, the
    report command from an explain output, and a smoke test."""
    out = tmp_path_factory.mktemp("reports")
    made: dict[str, Path] = {}

    def explain(name: str, kind: str, records: Path, output: str) -> None:
        url, endpoint = local_endpoint(kind)
        done = run_cli(
            "explain",
            endpoint,
            "--config",
            str(example_path(kind)),
            "--endpoint-url",
            url,
            "--input",
            str(records),
            "--output",
            str(out / output),
            "--report",
            str(out / f"{name}.html"),
            "--quiet",
            env=LOCAL_ENV,
        )
        assert done.returncode in (0, 1), done.stderr  # 1: some records failed (the failing run)
        made[name] = out / f"{name}.html"

    explain("csv", "binary", BINARY, "csv.csv")
    explain("multiclass", "multiclass", example_path("multiclass").parent / "records.jsonl", "multiclass.jsonl")
    texts = out / "texts.csv"
    texts.write_text(
        "The backpack is sturdy and reliable, I love it.\nTerrible zipper, it broke after a week.\n"
        "Fine for the price.\n"
    )
    explain("text", "nlp", texts, "text.jsonl")
    failing = out / "failing.csv"
    lines = BINARY.read_text().splitlines()
    failing.write_text("\n".join([*lines[:5], "not,a,number", *lines[5:8]]) + "\n")
    explain("failed", "binary", failing, "failed.csv")
    done = run_cli(
        "report",
        str(out / "multiclass.jsonl"),
        "--config",
        str(example_path("multiclass")),
        "--input",
        str(example_path("multiclass").parent / "records.jsonl"),
        "--output",
        str(out / "from-file.html"),
        env=LOCAL_ENV,
    )
    assert done.returncode == 0, done.stderr
    made["from-file"] = out / "from-file.html"
    url, endpoint = local_endpoint("binary")
    done = run_cli(
        "smoke",
        endpoint,
        "--config",
        str(example_path("binary")),
        "--endpoint-url",
        url,
        "--records",
        str(BINARY),
        "--iterations",
        "2",
        "--report",
        str(out / "smoke.html"),
        env=LOCAL_ENV,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    made["smoke"] = out / "smoke.html"
    return made


@pytest.mark.parametrize("name", ["csv", "multiclass", "text", "failed", "from-file", "smoke"])
def test_every_report_has_every_section_and_fetches_nothing(reports: dict[str, Path], name: str) -> None:
    page = _page(reports[name])
    assert [s for s in SECTIONS if s not in page.sections] == []
    if name == "text":
        assert "text" in page.sections
    # self-contained: every image inline, no URL pointing anywhere
    assert page.images and all(src.startswith("data:image/png;base64,") for src in page.images)
    assert all(u.startswith("data:") for u in page.urls), [u for u in page.urls if not u.startswith("data:")]
    assert "<link" not in reports[name].read_text()


def test_the_summary_names_failed_records_with_their_reason(reports: dict[str, Path]) -> None:
    text = reports["failed"].read_text()
    assert re.search(r"<b>9</b> records.*8 explained</span>, 0 not explained, <span class='bad'>1 failed", text)
    assert "<td>failed</td><td>1</td><td>ModelError: Received client error (400)" in text  # the reason, verbatim
    assert "class='failed'" in text  # the failed row is marked in the table


def test_the_additivity_check_holds_on_real_runs_and_the_smoke_checks_are_shown(reports: dict[str, Path]) -> None:
    for name in ("csv", "multiclass", "text", "failed"):
        assert "sum of attributions holds" in reports[name].read_text(), name
    smoke = reports["smoke"].read_text()
    assert smoke.count("<tr class='ok'>") == 5 and "additivity" in smoke


def test_the_report_command_reads_what_explain_wrote(reports: dict[str, Path]) -> None:
    outcomes = read_explain_output(reports["csv"].with_name("csv.csv"))
    jsonl = read_explain_output(reports["csv"].with_name("multiclass.jsonl"))
    assert len(outcomes) == 50 and all(o.status == "explained" and len(o.attributions) == 10 for o in outcomes)
    assert len(jsonl) == len(example_path("multiclass").parent.joinpath("records.jsonl").read_text().splitlines())
    explained = [o for o in jsonl if o.status == "explained"]
    assert explained and all(len(v) == 3 for o in explained for v in o.attributions.values())  # three labels
    assert all(o.reason for o in jsonl if o.status == "not_explained")


def test_a_thousand_record_report_stays_small(reports: dict[str, Path], tmp_path: Path) -> None:
    # GIVEN a real explain output of 50 records, repeated to 1,000 (record numbers running on) with its input
    header, *rows = reports["csv"].with_name("csv.csv").read_text().splitlines()
    many = [f"{n},{row.split(',', 1)[1]}" for n, row in enumerate(rows * 20)]
    (tmp_path / "many.csv.out.csv").write_text("\n".join([header, *many]) + "\n")
    records = tmp_path / "many.csv"
    records.write_text("\n".join(BINARY.read_text().splitlines() * 20) + "\n")
    # WHEN the report command renders it
    done = run_cli(
        "report",
        str(tmp_path / "many.csv.out.csv"),
        "--config",
        str(example_path("binary")),
        "--input",
        str(records),
        "--output",
        str(tmp_path / "many.html"),
        env=LOCAL_ENV,
    )
    assert done.returncode == 0, done.stderr
    # THEN every record is in its table and the page stays small
    size = (tmp_path / "many.html").stat().st_size
    assert size < 2_000_000, size
    assert (tmp_path / "many.html").read_text().count("<tr class='explained'>") == 1000  # every record in the table


# --- in a real browser -----------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",  # the network is off: anything the page tried to fetch would fail
    "--enable-logging=stderr",
    "--v=0",
]
PROBE = """<script>window.addEventListener('load', function () {
  var out = document.body.dataset;
  try {
    var th = document.querySelectorAll('table.sortable th')[2];
    th.click(); th.click();
    var scores = [].map.call(document.querySelectorAll('table.sortable tbody tr'),
                             function (r) { return r.cells[2].textContent; });
    out.sorted = JSON.stringify(scores);
    out.arrow = th.className;
  } catch (e) { out.failure = String(e); }
  out.resources = performance.getEntriesByType('resource').length;
});</script>"""


def _browser(path: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs the Debian package chromium")
        pytest.skip("install the Debian package chromium to open the report in a browser")
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra, path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["csv", "multiclass", "text", "failed", "smoke"])
def test_the_report_renders_sorts_and_shows_no_error_in_headless_chromium(
    reports: dict[str, Path], name: str, tmp_path: Path
) -> None:
    # the probe is admitted by its hash beside the report's own script (the CSP admits no other inline script)
    probe_source = PROBE.removeprefix("<script>").removesuffix("</script>")
    probe_hash = "sha256-" + base64.b64encode(hashlib.sha256(probe_source.encode()).digest()).decode()
    page = reports[name].read_text().replace("</body>", PROBE + "</body>")
    assert page.count(f"script-src '{SCRIPT_HASH}'") == 1
    page = page.replace(f"script-src '{SCRIPT_HASH}'", f"script-src '{SCRIPT_HASH}' '{probe_hash}'")
    probed = tmp_path / "probed.html"
    probed.write_text(page)
    done = _browser(probed, tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # every section rendered, the table sorted by score (descending after two clicks), nothing fetched
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    found = re.search(r'data-sorted="([^"]*)"', dom)
    assert found and "data-failure" not in dom, dom[-500:]
    scores = [float(s) for s in json.loads(found.group(1).replace("&quot;", '"')) if s]
    assert scores and scores == sorted(scores, reverse=True)
    assert 'data-arrow="desc"' in dom and 'data-resources="0"' in dom
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    # and a screenshot of the whole page, kept beside the report
    shot = tmp_path / f"{name}.png"
    done = _browser(reports[name], tmp_path, "--window-size=1200,3000", f"--screenshot={shot}")
    assert done.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_a_feature_named_with_a_nul_is_shown_as_an_escape_without_glyph_warnings(
    reports: dict[str, Path], tmp_path: Path
) -> None:
    # GIVEN an explain output whose first feature is named "mean\0radius"
    header, *rows = reports["csv"].with_name("csv.csv").read_text().splitlines()
    assert "mean radius" in header
    renamed = header.replace("mean radius", "mean\x00radius")
    (tmp_path / "nul.csv.out.csv").write_text("\n".join([renamed, *rows]) + "\n")
    # WHEN the report command renders it, warnings made errors
    done = run_cli(
        "report",
        str(tmp_path / "nul.csv.out.csv"),
        "--output",
        str(tmp_path / "nul.html"),
        env={**LOCAL_ENV, "PYTHONWARNINGS": "error::UserWarning"},
        process=True,
    )
    # THEN no raw NUL reaches the page, the name shows as an escape, and nothing is said about glyphs
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "nul.html").read_text()
    assert "\x00" not in page and "mean\\x00radius" in page
    assert "Glyph" not in done.stderr
