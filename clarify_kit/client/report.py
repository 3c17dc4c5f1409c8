"""A self-contained HTML report of a run (explain, smoke, or an explain output file): the artifact a pipeline keeps.

One file, nothing fetched when it is opened: styles, the sorting script and the plots (PNG) are inline. Sections:
the run's summary (explained / not explained / failed, with reasons), latency percentiles, the additivity check,
the explainer's settings, the summary plots (beeswarm and mean |attribution|), the waterfalls of the first and the
most extreme records, text heat maps where there is text, and the attribution table (every record, sortable).
"""

from __future__ import annotations

import base64
import hashlib
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clarify_kit.client.bulk import BulkSummary, RecordOutcome, read_explain_output, record_outcome
from clarify_kit.client.smoke import SmokeReport
from clarify_kit.core.codecs import CSV
from clarify_kit.core.errors import CodecError, KitError
from clarify_kit.core.limits import LABEL_HEADERS_MAX
from clarify_kit.core.numbers import display_number, noise_scale, percentile
from clarify_kit.core.safe_text import html_safe
from clarify_kit.core.spec import ExplainerSpec, logit

__all__ = ["RunData", "from_bulk", "from_smoke", "read_explain_output", "render_html", "write_report"]

ADDITIVITY_TOLERANCE = 1e-3  # of the implied E[f(x)] across records (the same baseline gives the same value)


@dataclass
class RunData:
    """What a report shows, from whichever run produced it."""

    title: str
    outcomes: list[RecordOutcome]
    values: dict[int, list[Any]] = field(default_factory=dict)  # each record's feature values, when known
    labels: list[str] = field(default_factory=list)
    use_logit: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)  # smoke checks: name, ok, summary
    seconds: float | None = None

    @property
    def explained(self) -> list[RecordOutcome]:
        return [o for o in self.outcomes if o.status == "explained" and o.attributions and o.scores]

    @property
    def feature_names(self) -> list[str]:
        first = self.explained[0] if self.explained else None
        return list(first.attributions) if first else []

    def attribution(self, outcome: RecordOutcome, name: str, label: int = 0) -> float:
        values = outcome.attributions.get(name) or [0.0]
        return values[label] if label < len(values) else 0.0

    def error(self, outcome: RecordOutcome, name: str, label: int = 0) -> float:
        """The standard error of an attribution (0 when the response had none for it)."""
        values = outcome.standard_errors.get(name) or [0.0]
        return values[label] if label < len(values) else 0.0

    @property
    def has_errors(self) -> bool:
        return any(o.standard_errors for o in self.explained)

    def output(self, outcome: RecordOutcome, label: int = 0) -> float:
        """The record's output in the attributions' unit (log-odds with UseLogit)."""
        assert outcome.scores is not None
        score = outcome.scores[label]
        return logit(score) if self.use_logit else score

    def implied_expected(self, outcome: RecordOutcome, label: int = 0) -> float:
        """E[f(x)] as this record's attributions imply it: f(x) - sum of attributions."""
        return self.output(outcome, label) - math.fsum(
            self.attribution(outcome, n, label) for n in outcome.attributions
        )


def _settings(spec: ExplainerSpec | None) -> dict[str, Any]:
    if spec is None:
        return {}
    shown = {
        "ContentType": spec.content_type,
        "Accept": spec.accept,
        "EnableExplanations": spec.enable_explanations,
        "NumberOfSamples": spec.number_of_samples,
        "UseLogit": spec.use_logit,
        "Seed": spec.seed,
        "Baseline": spec.baseline_uri or (f"inline, {len(spec.baseline_rows())} record(s)" if spec.baseline else None),
        "MaxRecordCount": spec.max_record_count,
        "TextConfig": (f"{spec.language}, {spec.granularity}" if spec.granularity else None),
    }
    return {k: v for k, v in shown.items() if v is not None}


def _values(lines: list[str], spec: ExplainerSpec | None, content_type: str | None) -> dict[int, list[Any]]:
    if spec is None:
        return {}
    found: dict[int, list[Any]] = {}
    for i, line in enumerate(lines):
        try:
            found[i] = spec.parse_request(line, content_type)[0]
        except (CodecError, KitError, IndexError, ValueError):
            continue
    return found


def from_bulk(
    summary: BulkSummary, lines: list[str], spec: ExplainerSpec | None, *, title: str, content_type: str | None = None
) -> RunData:
    """The report data of an ``explain`` run: its outcomes, the input's feature values and latencies."""
    return RunData(
        title=title,
        outcomes=list(summary.outcomes),
        values=_values(lines, spec, content_type),
        labels=_score_names(spec, list(summary.outcomes)),
        use_logit=bool(spec and spec.use_logit),
        settings=_settings(spec),
        latencies_ms=list(summary.latencies_ms),
        seconds=summary.seconds,
    )


def from_smoke(report: SmokeReport, records: list[str], spec: ExplainerSpec | None) -> RunData:
    """The report data of a smoke test: its checks, the explained call's records and the timed calls."""
    outcomes = [record_outcome(r.index, r, result) for result in report.explained[:1] for r in result.records]
    return RunData(
        title=f"clarify-kit smoke: {report.endpoint}",
        outcomes=outcomes,
        values=_values(records, spec, None),
        labels=_score_names(spec, outcomes),
        use_logit=bool(spec and spec.use_logit),
        settings=_settings(spec),
        latencies_ms=[s * 1000 for s in report.latencies_s],
        checks=[{"name": c.name, "ok": c.ok, "summary": c.summary} for c in report.checks],
    )


# --- rendering -------------------------------------------------------------------------------------------------


def _png(fig: Any) -> str:
    from clarify_kit.client.plots import png_bytes

    return "data:image/png;base64," + base64.b64encode(png_bytes(fig)).decode()


def _summary_section(run: RunData) -> str:
    counts = Counter(o.status for o in run.outcomes)
    reasons = Counter((o.status, o.reason) for o in run.outcomes if o.status != "explained")
    items = "".join(
        f"<tr><td>{html_safe(s)}</td><td>{n}</td><td>{html_safe(r)}</td></tr>" for (s, r), n in reasons.most_common(20)
    )
    reason_table = (
        f"<table class='reasons'><tr><th>status</th><th>records</th><th>reason</th></tr>{items}</table>"
        if items
        else ""
    )
    took = f", in {run.seconds:.1f} s" if run.seconds is not None else ""
    return (
        f"<section id='summary'><h2>Summary</h2><p class='counts'><b>{len(run.outcomes)}</b> records{took}: "
        f"<span class='ok'>{counts['explained']} explained</span>, {counts['not_explained']} not explained, "
        + (f"<span class='bad'>{counts['failed']} failed</span>" if counts["failed"] else "0 failed")
        + f"</p>{reason_table}{_checks(run)}</section>"
    )


def _checks(run: RunData) -> str:
    if not run.checks:
        return ""
    rows = "".join(
        f"<tr class='{'ok' if c['ok'] else 'bad'}'><td>{'✓' if c['ok'] else '✗'}</td>"
        f"<td>{html_safe(str(c['name']))}</td><td>{html_safe(str(c['summary']))}</td></tr>"
        for c in run.checks
    )
    return f"<h3>Checks</h3><table class='checks'>{rows}</table>"


def _latency_section(run: RunData) -> str:
    if not run.latencies_ms:
        return "<section id='latency'><h2>Latency</h2><p>not measured in this run</p></section>"
    values = run.latencies_ms
    cells = "".join(f"<td>{percentile(values, q):.0f} ms</td>" for q in (50, 90, 99))
    return (
        f"<section id='latency'><h2>Latency</h2><table><tr><th>calls</th><th>p50</th><th>p90</th><th>p99</th>"
        f"<th>max</th></tr><tr><td>{len(values)}</td>{cells}<td>{max(values):.0f} ms</td></tr></table>"
        "<p class='note'>per InvokeEndpoint call, as the client measured it; the limit is 60 s</p></section>"
    )


def _additivity_section(run: RunData) -> str:
    implied = [run.implied_expected(o) for o in run.explained]
    if not implied:
        return "<section id='additivity'><h2>Additivity</h2><p>no explained record</p></section>"
    spread = max(implied) - min(implied)
    ok = spread <= ADDITIVITY_TOLERANCE * max(1.0, abs(statistics.fmean(implied)))
    verdict = "holds" if ok else "does NOT hold"
    unit = "log-odds" if run.use_logit else "model output"
    return (
        f"<section id='additivity'><h2>Additivity</h2><p class='{'ok' if ok else 'bad'}'>f(x) = E[f(x)] + "
        f"sum of attributions {verdict}: every explained record implies E[f(x)] = "
        f"{statistics.fmean(implied):.6g} ({unit}), within {spread:.2g} across {len(implied)} records.</p>"
        "</section>"
    )


def _settings_section(run: RunData) -> str:
    rows = "".join(f"<tr><th>{html_safe(k)}</th><td>{html_safe(str(v))}</td></tr>" for k, v in run.settings.items())
    return f"<section id='settings'><h2>Explainer settings</h2><table>{rows}</table></section>" if rows else ""


def _plots_section(run: RunData) -> str:
    from clarify_kit.client.plots import beeswarm_figure, importance_figure

    explained = run.explained
    if not explained:
        return "<section id='plots'><h2>Summary plots</h2><p>no explained record</p></section>"
    names = run.feature_names
    matrix = [[run.attribution(o, n) for n in names] for o in explained]
    values = [run.values.get(o.index, []) for o in explained] if run.values else None
    label = run.labels[0] if run.labels else "score[0]"
    unit = f"attribution to {label}" + (" (log-odds)" if run.use_logit else "")
    swarm = _png(beeswarm_figure(names, matrix, values, unit=unit))
    bars = _png(importance_figure(names, matrix, unit=unit))
    return (
        f"<section id='plots'><h2>Summary plots</h2><img alt='beeswarm of attributions' src='{swarm}'>"
        f"<img alt='mean absolute attribution per feature' src='{bars}'></section>"
    )


def _waterfalls_section(run: RunData) -> str:
    """The first and the most extreme explained records, one waterfall per label (at most five labels)."""
    from clarify_kit.client.plots import waterfall_figure

    explained = run.explained
    if not explained:
        return ""
    first = explained[0]
    extreme = max(explained, key=lambda o: abs(run.output(o) - run.implied_expected(o)))
    chosen = [("first explained record", first)] + ([("most extreme record", extreme)] if extreme is not first else [])
    width = min(5, len(first.scores or [])) or 1
    images = []
    for what, o in chosen:
        names = list(o.attributions)
        for k in range(width):
            label = run.labels[k] if k < len(run.labels) else f"score[{k}]"
            score = f" = {o.scores[k]:.4g}" if o.scores and k < len(o.scores) else ""
            fig = waterfall_figure(
                names,
                [run.attribution(o, n, k) for n in names],
                run.output(o, k),
                values=run.values.get(o.index),
                title=f"Record {o.index}: {label}{score}",
                unit="log-odds" if run.use_logit else "model output",
                standard_errors=[run.error(o, n, k) for n in names] if o.standard_errors else None,
            )
            images.append(
                f"<figure><img alt='waterfall of record {o.index}, {html_safe(label)}' "
                f"src='{_png(fig)}'><figcaption>record {o.index} ({what}), {html_safe(label)}"
                "</figcaption></figure>"
            )
    return f"<section id='waterfalls'><h2>Records</h2>{''.join(images)}</section>"


def _text_section(run: RunData) -> str:
    from clarify_kit.client.plots import LEGEND_HTML, heat_spans

    blocks = []
    for o in run.explained:
        if not o.units:
            continue
        units = [(str(u.get("partial_text", "")), float((u.get("attribution") or [0.0])[0])) for u in o.units]
        blocks.append(f"<p class='text'><b>record {o.index}</b>: {heat_spans(units)}</p>")
        if len(blocks) == 10:
            break
    if not blocks:
        return ""
    return f"<section id='text'><h2>Text</h2>{''.join(blocks)}<p>{LEGEND_HTML}</p></section>"


# The attribution table shows at most this many features (those of largest mean |attribution|) and records: a
# report of 200 records x 10,000 features was 35 MB; the explain output keeps every value (kit).
MAX_TABLE_FEATURES = 50
MAX_TABLE_RECORDS = 2000


def _cell(run: RunData, o: RecordOutcome, name: str, scale: float) -> str:
    """A table cell: the attribution, and with standard errors its 90 % half-width, pale when it holds zero."""
    if not o.attributions:
        return "<td></td>"
    value = run.attribution(o, name)
    shown = display_number(value, scale=scale)
    if not o.standard_errors:
        return f"<td>{shown}</td>"
    half = 1.645 * run.error(o, name)
    zero = abs(value) <= half
    opening = "<td class='zero'>" if zero else "<td>"
    return f"{opening}{shown} ±{display_number(half, 2)}</td>"


def _uncertainty_section(run: RunData) -> str:
    """With standard errors: how many attributions are indistinguishable from zero, and which."""
    if not run.has_errors:
        return ""
    pairs = [(o, n) for o in run.explained for n in o.attributions]
    zero = [(o, n) for o, n in pairs if abs(run.attribution(o, n)) <= 1.645 * run.error(o, n)]
    by_feature: dict[str, int] = {}
    for _, n in zero:
        by_feature[n] = by_feature.get(n, 0) + 1
    ranked = sorted(by_feature.items(), key=lambda item: -item[1])
    listed = ", ".join(f"{html_safe(n)} ({c} of {len(run.explained)})" for n, c in ranked)
    return (
        "<section id='uncertainty'><h2>Uncertainty</h2><p>The self-hosted explainer sent a standard error with "
        "every attribution; the table shows each value ± 1.645 standard errors (a 90 % interval). "
        f"{len(zero)} of {len(pairs)} attributions are indistinguishable from zero (their interval holds zero; "
        f"pale in the table){': ' + listed if listed else ''}.</p></section>"
    )


def _table_section(run: RunData) -> str:
    every = run.feature_names
    weight = {n: sum(abs(run.attribution(o, n)) for o in run.explained) for n in every}
    names = sorted(every, key=lambda n: -weight[n])[:MAX_TABLE_FEATURES] if len(every) > MAX_TABLE_FEATURES else every
    shown = run.outcomes[:MAX_TABLE_RECORDS]
    cut = []
    if len(names) < len(every):
        cut.append(f"the {len(names)} features of largest mean |attribution| of {len(every)}")
    if len(shown) < len(run.outcomes):
        cut.append(f"the first {len(shown)} records of {len(run.outcomes)}")
    note = f"; showing {' and '.join(cut)} (the explain output holds every value)" if cut else ""
    head = "".join(f"<th>{html_safe(h)}</th>" for h in ["record", "status", "score", *names])
    rows = []
    for o in shown:
        score = f"{o.scores[0]:.6g}" if o.scores else ""
        scale = noise_scale(run.attribution(o, n) for n in o.attributions) if o.attributions else 0.0
        cells = "".join(_cell(run, o, n, scale) for n in names)
        status = html_safe(o.status, quote=True)  # a status read back is one of three words; escaped anyway
        rows.append(
            f"<tr class='{status}'><td>{o.index}</td><td title='{html_safe(o.reason, quote=True)}'>{status}</td>"
            f"<td>{score}</td>{cells}</tr>"
        )
    return (
        f"<section id='table'><h2>Attributions</h2><p class='note'>click a column to sort{html_safe(note)}</p>"
        f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4}.sortable th{cursor:pointer;user-select:none}.sortable th.asc:after{content:' ▲'}
.sortable th.desc:after{content:' ▼'}.ok{color:#0b6e2f}.bad{color:#b00020}.note{color:#666;font-size:.85em}
img{max-width:100%}figure{display:inline-block;margin:0 1em 1em 0}tr.failed td{background:#fdecea}
.zero{color:#999}.unit{padding:2px;border-radius:3px}.legend span{padding:2px 6px;border-radius:3px}.text{line-height:2}
#table{overflow-x:auto}
"""

SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var ascending = !th.classList.contains('asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(ascending ? 'asc' : 'desc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


# The CSP admits this one script by its hash, and no other (no inline handler in the page could run).
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode("utf-8")).digest()).decode("ascii")


def render_html(run: RunData) -> str:
    """The whole report as one HTML document."""
    sections = [
        _summary_section(run),
        _latency_section(run),
        _additivity_section(run),
        _settings_section(run),
        _plots_section(run),
        _waterfalls_section(run),
        _text_section(run),
        _uncertainty_section(run),
        _table_section(run),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        f"style-src 'unsafe-inline'; script-src '{SCRIPT_HASH}'\">"
        f"<title>{html_safe(run.title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html_safe(run.title)}</h1>{''.join(sections)}<script>{SORT_SCRIPT}</script></body></html>"
    )


def write_report(run: RunData, path: str | Path) -> Path:
    """Write the report to ``path`` (written beside, then renamed: never a half-written file)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(render_html(run), encoding="utf-8")
        partial.replace(out)
    except BaseException:  # a full disk, Ctrl-C: no partial file is left behind
        partial.unlink(missing_ok=True)
        raise
    return out


def _score_names(spec: ExplainerSpec | None, outcomes: list[RecordOutcome] | None = None) -> list[str]:
    """The explained scores' names for people (the label headers, else ``score[i]``), up to the 16 labels the
    service allows; ``outcomes`` tell how many scores each record has (one: a selector's own name)."""
    names = spec or ExplainerSpec(CSV, CSV)
    counts = {len(next(iter(o.attributions.values()))) for o in outcomes or [] if o.attributions}
    count = counts.pop() if len(counts) == 1 else None
    return [names.score_name(k, count) for k in range(LABEL_HEADERS_MAX)]
