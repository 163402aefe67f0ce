"""The circulation emulator's search index (SUB-2): what keeps a search fast over 100k subscriptions of a paper.

Per paper, one index over its records:
- names and company (`firstName`, `lastName`, `companyName`): case-insensitive **prefix** match ("acme" finds
  "Acme Media"), through a sorted list of `(casefolded value, id)` pairs searched with `bisect` — the first
  key at or after the prefix up to the first after every key starting with it;
- `accountNumber`, `email`, `postalCode`: case-insensitive exact match, through dicts;
- `phone`: by digits, with or without the country code. A phone is filed under its digits and, when it is
  written internationally (`+…`), also under its national number (`phonenumbers` finds where the country code
  ends); a criterion is looked up as its digits and, read as `+<digits>`, as its national number too.

Every given criterion must match (the id sets are intersected, smallest first), and the answer is ordered by id.
A bulk load marks the index stale and it is rebuilt (one sort per field) by the next search; single changes
(`put`) update it in place.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any, Iterable

import phonenumbers

PREFIX_FIELDS = ("firstName", "lastName", "companyName")
EXACT_FIELDS = ("accountNumber", "email", "postalCode")


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def phone_keys(phone: str) -> set[str]:
    """The keys a stored phone is filed under: its digits, and its national number when written with `+`."""
    keys = {digits(phone)} - {""}
    if phone.strip().startswith("+"):
        national = _national_number(digits(phone))
        if national:
            keys.add(national)
    return keys


def phone_query_keys(criterion: str) -> set[str]:
    """The keys a phone criterion looks up: its digits, and (read as international) its national number."""
    wanted = digits(criterion)
    keys = {wanted} - {""}
    national = _national_number(wanted) if len(wanted) > 7 else None
    if national and len(national) >= 7:
        keys.add(national)
    return keys


def _national_number(all_digits: str) -> str | None:
    """The digits after the country code, read as libphonenumber reads `+<digits>`: country codes are prefix-free,
    so the first one to three digits that are a known country code (`phonenumbers`' own table) are it. A table
    lookup, not `phonenumbers.parse` (whose 50 µs a call made indexing 100k records take seconds)."""
    for length in (1, 2, 3):
        code = all_digits[:length]
        if len(code) == length and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = all_digits[length:]
            return national if len(national) >= 4 else None
    return None


def _value(record: dict[str, Any], field: str) -> str | None:
    if field == "accountNumber":
        value = record.get("accountNumber")
    else:
        subscriber = record.get("subscriber") or {}
        value = (subscriber.get("address") or {}).get("postalCode") if field == "postalCode" else subscriber.get(field)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().casefold()


class SearchIndex:
    def __init__(self) -> None:
        self.stale = True
        self.sorted: dict[str, list[tuple[str, str]]] = {f: [] for f in PREFIX_FIELDS}
        self.exact: dict[str, dict[str, set[str]]] = {f: {} for f in EXACT_FIELDS}
        self.phones: dict[str, set[str]] = {}
        self.filed: dict[str, dict[str, Any]] = {}  # id → the keys it is filed under (to take them out again)

    # maintenance -----------------------------------------------------------------------------------
    def invalidate(self) -> None:
        self.stale = True

    def rebuild(self, records: Iterable[dict[str, Any]]) -> None:
        self.sorted = {f: [] for f in PREFIX_FIELDS}
        self.exact = {f: {} for f in EXACT_FIELDS}
        self.phones = {}
        self.filed = {}
        for record in records:
            self._file(record, keep_sorted=False)
        for entries in self.sorted.values():
            entries.sort()
        self.stale = False

    def put(self, record: dict[str, Any]) -> None:
        """A record added or changed: its old keys out, its current keys in."""
        if self.stale:
            return  # the next search rebuilds from the records as they are then
        self._unfile(record["id"])
        self._file(record, keep_sorted=True)

    def _file(self, record: dict[str, Any], *, keep_sorted: bool) -> None:
        rid = record["id"]
        keys: dict[str, Any] = {}
        for field in PREFIX_FIELDS:
            value = _value(record, field)
            if value is not None:
                keys[field] = value
                entries = self.sorted[field]
                if keep_sorted:
                    insort(entries, (value, rid))
                else:
                    entries.append((value, rid))
        for field in EXACT_FIELDS:
            value = _value(record, field)
            if value is not None:
                keys[field] = value
                self.exact[field].setdefault(value, set()).add(rid)
        phones = set()
        for phone in (record.get("subscriber") or {}).get("phones") or []:
            if isinstance(phone, str):
                phones |= phone_keys(phone)
        for key in phones:
            self.phones.setdefault(key, set()).add(rid)
        keys["phone"] = phones
        self.filed[rid] = keys

    def _unfile(self, rid: str) -> None:
        keys = self.filed.pop(rid, None)
        if keys is None:
            return
        for field in PREFIX_FIELDS:
            if field in keys:
                entries = self.sorted[field]
                at = bisect_left(entries, (keys[field], rid))
                if at < len(entries) and entries[at] == (keys[field], rid):
                    del entries[at]
        for field in EXACT_FIELDS:
            if field in keys:
                _discard(self.exact[field], keys[field], rid)
        for key in keys["phone"]:
            _discard(self.phones, key, rid)

    # search ----------------------------------------------------------------------------------------
    def ids(self, criteria: dict[str, str]) -> list[str]:
        """Ids of the records matching every criterion, by id. Criteria are raw (trimmed here)."""
        found: list[set[str]] = []
        for field, raw in criteria.items():
            wanted = raw.strip().casefold()
            if field in PREFIX_FIELDS:
                found.append(self._prefixed(field, wanted))
            elif field in EXACT_FIELDS:
                found.append(self.exact[field].get(wanted, set()))
            elif field == "phone":
                found.append(set().union(*(self.phones.get(k, set()) for k in phone_query_keys(raw))))
            if not found[-1]:
                return []
        found.sort(key=len)
        matches = set(found[0]).intersection(*found[1:])
        return sorted(matches)

    def _prefixed(self, field: str, prefix: str) -> set[str]:
        """Keys from `prefix` up to (not including) `prefix + U+10FFFF`: exactly those starting with it."""
        entries = self.sorted[field]
        low = bisect_left(entries, (prefix, ""))
        high = bisect_left(entries, (prefix + "\U0010ffff", ""), low)
        return {rid for _, rid in entries[low:high]}


def _discard(index: dict[str, set[str]], key: str, rid: str) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(rid)
        if not ids:
            del index[key]
