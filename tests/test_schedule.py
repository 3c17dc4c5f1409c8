"""The test schedule for xdist workers (tests/schedule.py): shares of xdist's sizes, longest first, balanced, and
the tests of a costly shared fixture on one worker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.schedule import DURATIONS, _shares, schedule


@dataclass
class _Item:
    nodeid: str
    fixturenames: list[str] = field(default_factory=list)
    slow: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        return name if name == "slow" and self.slow else None


def _run(items: list[_Item], workers: int, known: dict[str, float]) -> list[list[_Item]]:
    ordered: list[Any] = schedule(items, workers, known)  # type: ignore[arg-type]
    assert sorted(i.nodeid for i in ordered) == sorted(i.nodeid for i in items)  # every test, once
    shares, start = [], 0
    for size in _shares(len(items), workers):
        shares.append(ordered[start:start + size])
        start += size
    return shares


def test_long_tests_start_first_on_every_worker_and_the_loads_even_out() -> None:
    items = [_Item(f"t{n}") for n in range(40)]
    known = {"t37": 20.0, "t38": 18.0, "t39": 15.0, "t36": 12.0, "t35": 5.0}  # the long ones collected last
    shares = _run(items, 2, known)
    assert {shares[0][0].nodeid, shares[1][0].nodeid} == {"t37", "t38"}
    loads = [sum(known.get(i.nodeid, 0.1) for i in share) for share in shares]
    assert abs(loads[0] - loads[1]) <= 5.0, loads  # in file order one worker would hold all 70 s
    assert [len(s) for s in shares] == [20, 20]


def test_tests_sharing_a_costly_fixture_or_module_stay_on_one_worker_also_through_each_other() -> None:
    items = ([_Item(f"stack{n}", ["synthesized"]) for n in range(6)] + [_Item(f"t{n}") for n in range(30)]
             + [_Item(f"tests/clarify_kit/test_text_units.py::t{n}") for n in range(5)]
             + [_Item("tests/stacks/test_a.py::x"), _Item("tests/stacks/test_b.py::y", ["synthesized"])]
             + [_Item("s3-a", ["moto_url"]), _Item("s3-and-model", ["moto_url", "container_url"]),
                _Item("model-a", ["container_url"]), _Item("model-b", ["container_url"])])
    for workers in (2, 3):
        shares = _run(items, workers, {"stack0": 8.0, "tests/clarify_kit/test_text_units.py::t0": 7.0,
                                       "model-a": 9.0, "s3-a": 2.0})
        for group in (("stack", "tests/stacks/"), ("tests/clarify_kit/test_text_units.py",), ("s3-", "model-")):
            holding = [k for k, share in enumerate(shares) if any(i.nodeid.startswith(group) for i in share)]
            assert len(holding) == 1, (group, holding)


def test_a_slow_test_without_a_recorded_duration_still_starts_early() -> None:
    items = [_Item(f"t{n}") for n in range(20)] + [_Item("new-slow", slow=True)]
    shares = _run(items, 2, {})
    assert "new-slow" in {shares[0][0].nodeid, shares[1][0].nodeid}


def test_the_committed_durations_are_a_flat_map_of_seconds() -> None:
    known = json.loads(DURATIONS.read_text())
    assert known and all(isinstance(k, str) and "::" in k and v > 0 for k, v in known.items())
