"""LNK-4, BUY-10: no answer to a customer carries another registration's CRID, encrypted CRID, e-mail or names —
except an owner seeing their guests' names and e-mail — whatever the customer asks (issue 14 item 6).

The check does not know papergraph's fields: it walks every answer for the seeded demo registrations' identifying
strings (their CRIDs, encrypted CRIDs and e-mail addresses anywhere in any string, their first-and-last-name pairs
in any object), so a new field, argument or type that exposes registration data trips it without anyone
remembering to add it here. What the customer sent is not counted (an answer may echo its own argument), and the
`subscriber` of a subscription is the circulation system's record of the subscription, which a linked customer
reads (LNK-3), not a registration.

Two corpora, both posted to production's `/graphql` (tests/test_fuzz.py) as the owner of a subscription that has a
guest, and as that guest:
- every root query and mutation field of the schema, each selecting everything its type offers (every field,
  every union member, to the depth the operation limits allow), with its arguments filled from the demo data —
  the customer's own ids, the other customer's, a stranger's; lookups by one key at a time too. A new root field
  or a new field of any type is in this corpus the day it is added.
- hypothesis-graphql's operations (the strategies of tests/test_fuzz.py), with every String and ID drawn from the
  same ids, derandomized, `PAPERGRAPH_FUZZ_CONSENT_EXAMPLES` per customer (default 60).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterator

import graphql
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from domain.crypto import encrypt_crid
from sandbox.demo import generate
from settings import Settings
from tests.conftest import bearer
from tests.test_fuzz import CUSTOM_SCALARS, fuzz_database, graphql_schema, hoist_arguments, \
    production_graphql  # noqa: F401  (fixtures)

pytestmark = pytest.mark.sqlite_only

EXAMPLES = int(os.environ.get("PAPERGRAPH_FUZZ_CONSENT_EXAMPLES", "60"))
TENANT = "NCSDEMO"
DEMO = generate(1)
SECRET_KEY = Settings(environment="test").secret_key
MAX_DEPTH = 5  # of the full selections; shallower when the operation limits refuse one


# -- who is who in the demo data ---------------------------------------------------------------------
def _links(subscription_id: str) -> list[dict]:
    return [link for link in DEMO.links if link["tenant"] == TENANT and link["subscription_id"] == subscription_id]


def _owner_and_guest() -> tuple[str, str, str]:
    for subscription in DEMO.subscriptions_of(TENANT):
        links = _links(subscription["id"])
        owner = [link["crid"] for link in links if link["role"] == "OWNER"]
        guest = [link["crid"] for link in links if link["role"] == "GUEST"]
        if len(owner) == len(guest) == 1 and owner != guest:
            return subscription["id"], owner[0], guest[0]
    raise AssertionError("no demo subscription with one owner and one guest")


SHARED, OWNER, GUEST = _owner_and_guest()
REGISTRATIONS = {(r["tenant"], r["crid"]): r for r in DEMO.registrations}


def guests_of(crid: str) -> set[str]:
    """LNK-4: whose names and e-mail `crid` may see — the guests of the subscriptions it owns."""
    owned = {link["subscription_id"] for link in DEMO.links if link["tenant"] == TENANT and link["crid"] == crid
             and link["role"] == "OWNER"}
    return {link["crid"] for link in DEMO.links if link["tenant"] == TENANT and link["subscription_id"] in owned
            and link["role"] == "GUEST"} - {crid}


def stranger_of(*crids: str) -> str:
    linked = {link["crid"] for link in DEMO.links if link["tenant"] == TENANT and (
        link["subscription_id"] in {l["subscription_id"] for l in DEMO.links if l["crid"] in crids})}
    return next(r["crid"] for r in DEMO.registrations if r["tenant"] == TENANT and r["crid"] not in linked)


@dataclass
class Target:
    """The ids of one registration that arguments are filled with."""

    crid: str
    email: str
    encrypted_crid: str
    registration_id: str
    subscription_id: str
    link_id: str


def database_ids(url: str) -> tuple[dict[str, int], dict[tuple[int, str], int]]:
    """Registration ids by CRID, and link ids by (registration id, subscription id), of the fuzz database."""
    path = url.split("///", 1)[1]
    with sqlite3.connect(path) as connection:
        registrations = {crid: id_ for id_, crid in connection.execute(
            "SELECT r.id, r.crid FROM registration r JOIN tenant t ON t.id = r.tenant_id WHERE t.code = ?", (TENANT,))}
        links = {(registration_id, subscription_id): id_ for id_, registration_id, subscription_id in
                 connection.execute("SELECT id, registration_id, subscription_id FROM subscription_link")}
    return registrations, links


def target(crid: str, registration_ids: dict[str, int], link_ids: dict[tuple[int, str], int]) -> Target:
    registration_id = registration_ids[crid]
    subscription_id = SHARED if crid in (OWNER, GUEST) else next(
        link["subscription_id"] for link in DEMO.links if link["tenant"] == TENANT and link["crid"] == crid)
    return Target(crid=crid, email=REGISTRATIONS[(TENANT, crid)]["email"], encrypted_crid=encrypt_crid(SECRET_KEY, crid),
                  registration_id=str(registration_id), subscription_id=subscription_id,
                  link_id=str(link_ids.get((registration_id, subscription_id), 1)))


# -- the check -----------------------------------------------------------------------------------------
@dataclass
class Forbidden:
    """What a customer must not read: every other demo registration's identifying strings, minus their guests'
    names and e-mail."""

    strings: dict[str, str]  # string -> whose
    names: dict[tuple[str, str], str]

    @classmethod
    def for_customer(cls, crid: str) -> "Forbidden":
        guests = guests_of(crid)
        strings: dict[str, str] = {}
        names: dict[tuple[str, str], str] = {}
        for (tenant, other), registration in REGISTRATIONS.items():
            if other == crid and tenant == TENANT:
                continue
            strings[other] = f"CRID of {other}"
            strings[encrypt_crid(SECRET_KEY, other)] = f"encrypted CRID of {other}"
            if not (tenant == TENANT and other in guests):
                strings[registration["email"]] = f"e-mail of {other}"
                if tenant == TENANT:
                    names[(registration["first_name"], registration["last_name"])] = f"names of {other}"
        return cls(strings, names)

    def leaks(self, answer: Any, sent: set[str]) -> list[str]:
        found: list[str] = []
        strings = {value: whose for value, whose in self.strings.items() if value not in sent}

        def walk(value: Any, path: str) -> None:
            if isinstance(value, dict):
                pair = (value.get("firstName"), value.get("lastName"))
                if pair in self.names:
                    found.append(f"{path}: {self.names[pair]}")
                for key, item in value.items():
                    if key != "subscriber":  # the subscription's circulation record (LNK-3), see the docstring
                        walk(item, f"{path}.{key}")
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, f"{path}[{index}]")
            elif isinstance(value, str):
                found.extend(f"{path}: {whose}" for text, whose in strings.items() if text in value)

        walk(answer, "")
        return found


# -- corpus 1: every root field, selecting everything ---------------------------------------------------
def selection(type_: graphql.GraphQLOutputType, depth: int, schema: graphql.GraphQLSchema) -> str | None:
    """Every field of `type_` (every member of a union) down to `depth`; None when an object is cut off."""
    named = graphql.get_named_type(type_)
    if isinstance(named, (graphql.GraphQLScalarType, graphql.GraphQLEnumType)):
        return ""
    if depth == 0:
        return None
    if isinstance(named, (graphql.GraphQLUnionType, graphql.GraphQLInterfaceType)):
        members = [f"... on {member.name} {selection(member, depth, schema)}"
                   for member in schema.get_possible_types(named)]
        return "{ __typename " + " ".join(members) + " }"
    parts = []
    for name, definition in named.fields.items():
        if any(graphql.is_non_null_type(arg.type) and arg.default_value is graphql.Undefined
               for arg in definition.args.values()):
            continue  # a nested field that needs arguments: the root corpus reaches it another way
        inner = selection(definition.type, depth - 1, schema)
        if inner is not None:
            parts.append(f"{name} {inner}".strip())
    return "{ " + " ".join(parts or ["__typename"]) + " }"


KEYS = {  # argument (or input field) name -> the Target attribute it is filled from
    "crid": "crid", "customerRegistrationId": "crid", "currentCustomerRegistrationId": "crid",
    "email": "email", "encryptedCrid": "encrypted_crid", "registrationId": "registration_id",
    "subscriptionId": "subscription_id", "linkId": "link_id", "id": "subscription_id",
}


def value_for(name: str, type_: graphql.GraphQLInputType, who: Target, sent: set[str], keys: set[str]) -> Any:
    """A value for an argument or input field: a demo id when its name says what it is, else something valid."""
    named = graphql.get_named_type(type_)
    if isinstance(type_, graphql.GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, graphql.GraphQLList):
        item = value_for(name, type_.of_type, who, sent, keys)
        return None if item is None else [item]
    if named.name == "_Any":
        return {"__typename": "Registration", "crid": who.crid}
    if name in KEYS and name in keys and named.name in ("String", "ID"):
        value = getattr(who, KEYS[name])
        sent.add(value)
        return value
    if isinstance(named, graphql.GraphQLInputObjectType):
        return {field_name: value_for(field_name, definition.type, who, sent, keys)
                for field_name, definition in named.fields.items()
                if graphql.is_non_null_type(definition.type) or field_name in KEYS}
    if isinstance(named, graphql.GraphQLEnumType):
        return next(iter(named.values))
    return {"String": "x", "ID": "1", "Int": 1, "Float": 1.0, "Boolean": False, "Decimal": "1.00",
            "Date": "2026-12-01", "DateTime": "2026-12-01T00:00:00+00:00", "JSON": {}}.get(named.name, "x")


def documents(schema: graphql.GraphQLSchema, who: Target, depth: int) -> Iterator[tuple[str, str, dict, set[str]]]:
    """(root field, document, variables, values sent) for every root field: all its id-like arguments filled
    from `who`, and for lookups, each id-like argument alone."""
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for name, definition in root.fields.items():
            inner = selection(definition.type, depth, schema) or ""
            id_like = [arg for arg in definition.args if arg in KEYS]
            key_sets = [set(KEYS)] + ([{arg} for arg in id_like] if len(id_like) > 1 else [])
            for keys in key_sets:
                sent: set[str] = set()
                variables, declared, passed = {}, [], []
                for arg_name, arg in definition.args.items():
                    if not (graphql.is_non_null_type(arg.type) or arg_name in keys or
                            isinstance(graphql.get_named_type(arg.type), graphql.GraphQLInputObjectType)):
                        continue
                    value = value_for(arg_name, arg.type, who, sent, keys)
                    if value is None:
                        continue
                    variables[arg_name] = value
                    declared.append(f"${arg_name}: {arg.type}")
                    passed.append(f"{arg_name}: ${arg_name}")
                head = f"{operation} Consent" + (f"({', '.join(declared)})" if declared else "")
                call = name + (f"({', '.join(passed)})" if passed else "")
                yield name, f"{head} {{ {call} {inner} }}", variables, sent


# -- the tests --------------------------------------------------------------------------------------------
CUSTOMERS = {"owner": OWNER, "guest": GUEST}


@pytest.fixture(scope="module")
def targets(fuzz_database) -> dict[str, Target]:
    registration_ids, link_ids = database_ids(fuzz_database)
    return {"owner": target(OWNER, registration_ids, link_ids), "guest": target(GUEST, registration_ids, link_ids),
            "stranger": target(stranger_of(OWNER, GUEST), registration_ids, link_ids)}


def post(runner, client, headers: dict, query: str, variables: dict) -> dict:
    response = runner.run(client.post("/graphql", json={"query": query, "variables": variables}, headers=headers))
    assert response.status_code < 500, response.text
    return response.json()


@pytest.mark.parametrize("customer", sorted(CUSTOMERS))
def test_lnk4_every_root_field_selecting_everything_shows_a_customer_no_other_registration(
        production_graphql, targets, customer):
    # given: the customer, and the three registrations whose ids fill the arguments
    runner, client, tokens = production_graphql
    crid = CUSTOMERS[customer]
    headers = {**bearer(tokens.customer(crid, TENANT))}
    forbidden = Forbidden.for_customer(crid)
    schema = graphql_schema()
    leaks, answered, fields = [], 0, set()
    for who in targets.values():
        by_depth = zip(*(list(documents(schema, who, depth)) for depth in range(MAX_DEPTH, 0, -1)))
        for variants in by_depth:  # the same document, from the deepest selection to the shallowest
            for name, query, variables, sent in variants:
                # when
                body = post(runner, client, headers, query, variables)
                if not _refused_by_limits(body):
                    break
            fields.add(name)
            answered += any(v is not None for v in (body.get("data") or {}).values())
            # then
            leaks.extend(f"{name} ({who.crid}): {leak}" for leak in forbidden.leaks(body, sent))
    assert fields == set(schema.query_type.fields) | set(schema.mutation_type.fields)
    assert answered > 20, "too few root fields answered anything: the corpus no longer reaches the data"
    assert leaks == []


def _refused_by_limits(body: dict) -> bool:
    return any((e.get("extensions") or {}).get("code") == "OPERATION_LIMIT_EXCEEDED" for e in body.get("errors") or ())


@pytest.mark.parametrize("customer", sorted(CUSTOMERS))
def test_lnk4_generated_operations_show_a_customer_no_other_registration(production_graphql, targets, customer):
    runner, client, tokens = production_graphql
    crid = CUSTOMERS[customer]
    headers = bearer(tokens.customer(crid, TENANT))
    forbidden = Forbidden.for_customer(crid)
    schema = graphql_schema()
    ids = sorted({value for who in targets.values() for value in (
        who.crid, who.email, who.encrypted_crid, who.registration_id, who.subscription_id, who.link_id)})
    scalars = {**CUSTOM_SCALARS, "String": st.sampled_from(ids).map(nodes.String),
               "ID": st.sampled_from(ids).map(nodes.String)}
    fields = sorted({**schema.query_type.fields, **schema.mutation_type.fields})
    operations = st.sampled_from(fields).flatmap(lambda name: from_schema(
        schema, fields=[name], mode=Mode.POSITIVE, custom_scalars=scalars, allow_x00=False,
        print_ast=lambda document: document))

    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.filter_too_much])
    @given(operations, st.booleans())
    def posted(document, as_variables) -> None:
        if as_variables:
            query, variables = hoist_arguments(document, schema)
        else:
            query, variables = graphql.print_ast(document), {}
        body = post(runner, client, headers, query, variables)
        sent = {value for value in ids if value in query or value in json.dumps(variables)}
        assert forbidden.leaks(body, sent) == [], f"{query}\n{variables}\n{json.dumps(body)[:2000]}"

    posted()
