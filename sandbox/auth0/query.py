"""The subset of Auth0's user-search query syntax (search engine v3, Lucene-like) that papergraph uses.

    email:"ada@example.com" AND app_metadata.paperCode:"NCSDEMO"
    user_id:("auth0|a" OR "auth0|b")          one search for a batch of ids (Auth0 has no batch read)
    given_name:Ad*                             trailing wildcard on an unquoted value
    email_verified:true

A query is terms joined by `AND` (an implicit AND between terms, as Lucene has, is accepted too); a term
is `field:value` or `field:(v1 OR v2 …)`; values are quoted (with `\\"` and `\\\\` escapes) or bare. A
field is a dotted path into the user (`app_metadata.paperCode`). As in Auth0, `email` matches
case-insensitively, every other field exactly. Anything else is refused with `QuerySyntaxError`, which
the API answers as Auth0 does (400 `invalid_query_string`), so a typo never silently matches everyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<lparen>\()|(?P<rparen>\))|(?P<colon>:)|(?P<bare>[^\s:()"]+))'
)
CASE_INSENSITIVE_FIELDS = {"email"}


class QuerySyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    field: str
    values: tuple[tuple[str, bool], ...]  # (value, is_prefix)

    def matches(self, user: dict[str, Any]) -> bool:
        actual = _lookup(user, self.field)
        if actual is None:
            return False
        text = str(actual).lower() if isinstance(actual, bool) else str(actual)
        if self.field in CASE_INSENSITIVE_FIELDS:
            text = text.lower()
        for value, prefix in self.values:
            wanted = value.lower() if self.field in CASE_INSENSITIVE_FIELDS else value
            if text.startswith(wanted) if prefix else text == wanted:
                return True
        return False


def _lookup(user: dict[str, Any], path: str) -> Any:
    value: Any = user
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _tokens(query: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    query = query.rstrip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if not match:
            raise QuerySyntaxError(f"unexpected character at {position}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _value(kind: str, text: str) -> tuple[str, bool]:
    if kind == "quoted":
        return re.sub(r"\\(.)", r"\1", text[1:-1]), False
    if kind == "bare":
        return (text[:-1], True) if text.endswith("*") else (text, False)
    raise QuerySyntaxError(f"expected a value, got {text!r}")


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    def matches(self, user: dict[str, Any]) -> bool:
        return all(term.matches(user) for term in self.terms)

    def exact_values(self, field: str) -> set[str] | None:
        """The only values `field` may have for a match (None: unconstrained), so the store can look
        candidates up in an index instead of scanning every user."""
        for term in self.terms:
            if term.field == field and not any(prefix for _, prefix in term.values):
                return {value for value, _ in term.values}
        return None


def parse(query: str) -> Query:
    """An empty query matches every user."""
    tokens = _tokens(query)
    terms: list[Term] = []
    i = 0
    while i < len(tokens):
        if terms and tokens[i] == ("bare", "AND"):
            i += 1
        if i + 2 >= len(tokens):  # a term needs a field, a colon and a value
            raise QuerySyntaxError("incomplete term")
        (kind, field), (colon, _) = tokens[i], tokens[i + 1]
        if kind != "bare" or colon != "colon" or not re.fullmatch(r"[A-Za-z_][\w.]*", field):
            raise QuerySyntaxError(f"expected field:value near {field!r}")
        i += 2
        if tokens[i][0] == "lparen":
            values: list[tuple[str, bool]] = []
            i += 1
            while True:
                if i >= len(tokens):
                    raise QuerySyntaxError("unclosed parenthesis")
                values.append(_value(*tokens[i]))
                i += 1
                if i < len(tokens) and tokens[i] == ("bare", "OR"):
                    i += 1
                    continue
                if i < len(tokens) and tokens[i][0] == "rparen":
                    i += 1
                    break
                raise QuerySyntaxError("expected OR or ) in a value list")
            terms.append(Term(field, tuple(values)))
        else:
            terms.append(Term(field, (_value(*tokens[i]),)))
            i += 1
    return Query(tuple(terms))
