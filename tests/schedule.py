"""The order tests run in across pytest-xdist workers, so that both cores stay busy until the end.

xdist's work stealing hands the first half of the collected tests to one worker and the second half to the other,
and at the end an idle worker takes the later half of what the busier one still has queued. In file order the
slowest tests (demo, pipelines, notebooks, README blocks) are collected last, so one of them ran alone at the end
while the other core idled. Here each worker's share is filled longest first (the LPT rule) from the durations of
an earlier run (``tests/durations.json``, written by ``make durations``), so the long tests start first on both
workers and the short ones at the end are what gets stolen. Tests that share a costly session fixture (the CDK app,
the example containers, moto) go to one worker, so the fixture is built once. A test the file does not know counts
as short, or as 5 s when marked slow; the order is only a schedule: every test runs either way, and in one process
(``PYTEST_WORKERS=0``) the file order is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DURATIONS = Path(__file__).with_name("durations.json")
UNKNOWN_S = 0.1
UNKNOWN_SLOW_S = 5.0  # a test marked slow that the durations file does not know yet (new, or renamed)
# Session fixtures that are costly to build (the CDK app with its nag packs; the example containers, with the local
# endpoints and report runs in front of them; moto's server), and test paths whose tests share a costly process-wide
# start (the stack tests' jsii kernel, 2-3 s of CPU; spaCy's French tokenizer, 2.5 s). Tests that share any of these
# form one unit, which one worker runs.
SHARED_FIXTURES = ("synthesized", "container_url", "moto_url")
SHARED_PATHS = ("tests/stacks/", "tests/clarify_kit/test_text_units.py")
# durations below this are left out of the file (they all count as UNKNOWN_S)
STORE_AT_LEAST_S = 0.3


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store-durations", action="store_true",
                     help=f"write each test's setup + call + teardown time to {DURATIONS.name} (make durations)")


def _units(items: list[pytest.Item]) -> list[list[pytest.Item]]:
    """The items in units: alone, or with every item that shares a costly fixture or test path with it (directly or
    through another item), in collection order; units in the order of their first item."""
    parent = list(range(len(items)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first: dict[str, int] = {}
    for k, item in enumerate(items):
        keys = [f for f in SHARED_FIXTURES if f in getattr(item, "fixturenames", ())]
        keys += [path for path in SHARED_PATHS if item.nodeid.startswith(path)]
        for key in keys:
            if key in first:
                parent[root(k)] = root(first[key])
            else:
                first[key] = k
    units: dict[int, list[pytest.Item]] = {}
    for k, item in enumerate(items):
        units.setdefault(root(k), []).append(item)
    return list(units.values())


def _shares(total: int, workers: int) -> list[int]:
    """How many tests xdist first sends to each worker: the pending list divided among the idle ones in turn."""
    shares = []
    for k in range(workers):
        shares.append(total // (workers - k))
        total -= shares[-1]
    return shares


def schedule(items: list[pytest.Item], workers: int, known: dict[str, float]) -> list[pytest.Item]:
    """``items`` reordered: ``workers`` consecutive shares of xdist's sizes, each longest first, the shares' total
    durations as even as the LPT rule makes them."""
    def guess(item: pytest.Item) -> float:
        marked = getattr(item, "get_closest_marker", lambda name: None)("slow") is not None
        return UNKNOWN_SLOW_S if marked else UNKNOWN_S

    def cost(unit: list[pytest.Item]) -> float:
        return sum(known[item.nodeid] if item.nodeid in known else guess(item) for item in unit)

    room = _shares(len(items), workers)
    bins: list[list[pytest.Item]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    pending = sorted(_units(items), key=cost, reverse=True)  # stable: equal costs keep the file order
    while pending:
        unit = pending.pop(0)
        fits = [k for k in range(workers) if room[k] >= len(unit)]
        if not fits:  # a shared unit larger than any share left: its tests are scheduled one by one
            pending[:0] = sorted(([item] for item in unit), key=cost, reverse=True)
            continue
        k = min(fits, key=lambda b: load[b])
        bins[k] += unit
        room[k] -= len(unit)
        load[k] += cost(unit)
    return [item for share in bins for item in share]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workerinput = getattr(config, "workerinput", None)
    workers = int(workerinput["workercount"]) if workerinput else 1
    if workers < 2 or config.getoption("--store-durations"):
        return
    known = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    items[:] = schedule(items, workers, known)


class _Recorder:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self) -> None:
        kept = {nodeid: round(s, 1) for nodeid, s in sorted(self.seconds.items()) if s >= STORE_AT_LEAST_S}
        DURATIONS.write_text(json.dumps(kept, indent=0) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--store-durations") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(), "clarify-kit-durations")
