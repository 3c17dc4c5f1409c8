"""JUnit XML, the one form every CI system reads test results in: one builder for precheck, smoke and drift.

A report is suites of cases; a case passes, fails (a message, and details as its text) or is skipped, and may carry
output. Every text is made XML-safe (control characters written as escapes), so no value from outside can make
the file ill-formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from clarify_kit.core.safe_text import xml_safe_tree

__all__ = ["Case", "Suite", "junit_tree"]


@dataclass(frozen=True)
class Case:
    """One test case: ``ok``, or a failure of ``failure_type`` with ``message`` and ``detail``; or ``skipped``."""

    name: str
    classname: str
    ok: bool = True
    message: str = ""
    detail: str = ""
    output: str = ""
    skipped: bool = False
    seconds: float | None = None
    file: str | None = None
    failure_type: str = "failure"
    failures: tuple[tuple[str, str], ...] = ()  # several (message, detail) failures of one case (precheck's rules)


@dataclass(frozen=True)
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)


def junit_tree(suites: list[Suite], *, name: str | None = None) -> ET.ElementTree[ET.Element]:
    """The ``<testsuites>`` document of ``suites``."""
    root = ET.Element("testsuites", name=name) if name else ET.Element("testsuites")
    for suite in suites:
        failed = sum(1 for c in suite.cases if not c.ok and not c.skipped)
        attributes = {"name": suite.name, "tests": str(len(suite.cases)), "failures": str(failed), "errors": "0",
                      "skipped": str(sum(1 for c in suite.cases if c.skipped))}  # fmt: skip
        timed = [c.seconds for c in suite.cases if c.seconds is not None]
        if timed:
            attributes["time"] = f"{sum(timed):.3f}"
        element = ET.SubElement(root, "testsuite", attributes)
        for case in suite.cases:
            _case(element, case)
    return ET.ElementTree(xml_safe_tree(root))


def _case(suite: ET.Element, case: Case) -> None:
    element = ET.SubElement(suite, "testcase", classname=case.classname, name=case.name)
    if case.seconds is not None:
        element.set("time", f"{case.seconds:.3f}")
    if case.file:
        element.set("file", case.file)
    if case.skipped:
        ET.SubElement(element, "skipped", message=case.message)
    elif not case.ok:
        for message, detail in case.failures or ((case.message, case.detail or case.message),):
            ET.SubElement(element, "failure", message=message, type=case.failure_type).text = detail
    if case.output:
        ET.SubElement(element, "system-out").text = case.output
