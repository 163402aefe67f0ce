"""Free text a client sends (names, descriptions, reasons, platforms, searches): the one validator every such
input goes through (issue 14 #15, after USR-4's rule for e-mail addresses).

Refused, wherever free text enters and on both databases: control characters (NUL, CR, LF, TAB, ESC and the
other C0/C1 controls: NUL makes PostgreSQL fail, line breaks forge log lines and CSV rows), format characters
(the bidi overrides and isolates U+202A–U+202E and U+2066–U+2069, which make a name display reversed, and
zero-width characters, soft hyphens and the BOM, which make two equal-looking names differ) and the line and
paragraph separators U+2028/U+2029. Ordinary letters of every script, spaces and punctuation are text.
"""

from __future__ import annotations

import unicodedata
from typing import Sequence

from domain.money import RuleError

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def forbidden_character(value: str) -> str | None:
    """The first character free text may not hold, or None."""
    for char in value:
        if char < " " or (char >= "\x7f" and unicodedata.category(char) in REFUSED_CATEGORIES):
            return char
    return None


def free_text(value: str | None, field: Sequence[str], *, rule: str = "USR-4") -> str | None:
    """`value` unchanged when it is clean; `RuleError` naming `field` and the character otherwise."""
    if value is None:
        return None
    char = forbidden_character(value)
    if char is not None:
        name = unicodedata.name(char, "")
        raise RuleError(f"`{field[-1] if field else 'text'}` contains a control or invisible character "
                        f"(U+{ord(char):04X}{' ' + name.title() if name else ''})", field, rule)
    return value


def printable(value: str | None) -> str | None:
    """`value` with every character `free_text` refuses taken out: for what papergraph records but the client
    does not choose the shape of (a User-Agent header in the access log)."""
    if value is None:
        return None
    return "".join(char for char in value if forbidden_character(char) is None)
