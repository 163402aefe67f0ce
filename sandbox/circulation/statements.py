"""Bill statements of the circulation emulator (EBL-4): which statements a subscription has, and each one's PDF.

A subscription is billed on the 1st of every month from its start: its statements are the last
`STATEMENT_MONTHS` of those issue dates up to today (paper time zone), newest first, each for the month it
opens, with the amount of the subscription's current billing option. Ids name the subscription and the month
(`ST-<subscription id>-<YYYYMM>`), so a statement looked up under another subscription is simply not found.

The PDF is written here, not by a library: one page of Helvetica text is a few hundred bytes of PDF 1.4
(ISO 32000-1 §7.5: header, objects, a cross-reference table with the byte offset of each object, trailer), and
a dependency that earns its place for a fixture does not exist. Each circulation kind titles and words its
document its own way, as the real systems do.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

STATEMENT_MONTHS = 6
# per circulation kind: the document's title and the label of the amount due
STATEMENT_STYLE = {
    "NCS": ("NCS Circulation - Bill statement", "Amount due"),
    "MATRIX": ("Matrix - Invoice", "Invoice total"),
    "CIRCPRO": ("CircPro - Account statement", "Balance due"),
    "SAXO": ("Saxo - Faktura", "Total at betale"),
}


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(day: date) -> date:
    return date(day.year - 1, 12, 1) if day.month == 1 else date(day.year, day.month - 1, 1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def statements(record: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The subscription's statements, newest first: issued on each 1st from its start month to today."""
    start = date.fromisoformat(record["startDate"])
    options = record.get("billingOptions") or []
    plan = record.get("autoPayPlan") or {}
    option = next((o for o in options if o["term"] == plan.get("term")), options[0] if options else None)
    amount = option["amount"] if option else Decimal("0.00")
    found = []
    issue = _month_start(today)
    while issue >= _month_start(start) and len(found) < STATEMENT_MONTHS:
        period_end = _next_month(issue).toordinal() - 1
        found.append({"id": f"ST-{record['id']}-{issue:%Y%m}", "issueDate": issue.isoformat(),
                      "periodStart": issue.isoformat(), "periodEnd": date.fromordinal(period_end).isoformat(),
                      "amountDue": amount, "currency": record["currency"]})
        issue = _previous_month(issue)
    return found


def _escape(text: str) -> str:
    """A PDF literal string: backslash and parentheses escaped, non-Latin-1 replaced (Helvetica's encoding)."""
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def statement_pdf(kind: str, record: dict[str, Any], statement: dict[str, Any]) -> bytes:
    """A one-page PDF of the statement, in the style of the paper's circulation kind."""
    title, amount_label = STATEMENT_STYLE[kind]
    subscriber = record.get("subscriber") or {}
    lines = [
        (18, title),
        (11, f"Statement {statement['id']}"),
        (11, f"Account {record['accountNumber']} - {subscriber.get('firstName') or ''} "
             f"{subscriber.get('lastName') or ''}".rstrip()),
        (11, f"Issued {statement['issueDate']}, period {statement['periodStart']} to {statement['periodEnd']}"),
        (13, f"{amount_label}: {statement['amountDue']} {statement['currency']}"),
    ]
    text = ["BT", "72 760 Td"]
    for index, (size, line) in enumerate(lines):
        if index:
            text.append("0 -24 Td")
        text.append(f"/F1 {size} Tf ({_escape(line)}) Tj")
    text.append("ET")
    content = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        f"<< /Title ({_escape(title)}) /Producer (papergraph circulation emulator) >>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
