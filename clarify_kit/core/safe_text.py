"""Text that came from outside (a file name, a model's error message, a target model) made safe where it is shown:
in XML (JUnit for CI parsers) and on a terminal.

Control characters are written as escapes (``\\x1b``, ``\\x00``), so that nothing is lost from sight and nothing
is interpreted: a NUL or an ANSI sequence would make JUnit XML ill-formed (XML 1.0 forbids them) or repaint a
terminal.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["html_safe", "terminal_safe", "xml_safe", "xml_safe_tree"]

# What XML 1.0 forbids (its Char production): C0 controls but tab, LF and CR; surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a terminal interprets: C0 controls but tab and LF, DEL, and the C1 controls (CSI among them).
_NOT_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100 else f"\\u{ord(match.group()):04x}"


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as an escape."""
    return _NOT_XML.sub(_escape, text)


def terminal_safe(text: str) -> str:
    """``text`` with every control character a terminal would act on written as an escape (tab and LF kept)."""
    return _NOT_TERMINAL.sub(_escape, text)


def html_safe(text: str, *, quote: bool = True) -> str:
    """``text`` for an HTML page: escaped, with every control character (NUL included) written as an escape."""
    import html

    return html.escape(xml_safe(terminal_safe(text)), quote=quote)


def xml_safe_tree(root: ET.Element) -> ET.Element:
    """Every attribute, text and tail of ``root``'s tree made XML-safe, in place; returns ``root``."""
    for element in root.iter():
        element.attrib = {xml_safe(k): xml_safe(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = xml_safe(element.text)
        if element.tail:
            element.tail = xml_safe(element.tail)
    return root
