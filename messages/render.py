"""Rendering a message from a tenant's template (MSG-1) with Jinja2.

Templates are the tenant's own text, so they run in Jinja's sandbox (no attribute access to Python
internals); the HTML part autoescapes, the text part does not. `default_templates()` are the sources
papergraph ships (messages/templates/<EVENT>/), loaded into `message_template` for the demo tenants and
a starting point for any tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=True)


def render(subject: str, text: str, html: str, context: dict[str, Any]) -> Rendered:
    plain, escaped = _environment(False), _environment(True)
    return Rendered(subject=" ".join(plain.from_string(subject).render(context).split()),
                    text=plain.from_string(text).render(context), html=escaped.from_string(html).render(context))


def default_templates() -> dict[str, tuple[str, str, str]]:
    """{event type: (subject, text, html)} of the templates papergraph ships."""
    found = {}
    for folder in sorted(TEMPLATES.iterdir()):
        if folder.is_dir():
            found[folder.name] = tuple((folder / name).read_text() for name in
                                       ("subject.j2", "body.txt.j2", "body.html.j2"))
    return found
