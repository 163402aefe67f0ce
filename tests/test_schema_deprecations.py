"""API-3: what the source platform deprecated stays out of the schema, or is marked `@deprecated` naming its
replacement. Checked over the schema papergraph serves: every type, field, argument, input field and enum value."""

from __future__ import annotations

import re

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from schema import build_schema

# Deprecated by the source platform (release notes in the seeds), by the name a GraphQL API would give it, and why
SOURCE_DEPRECATED = {
    "payBalance": "3.17: the PayBalance flow is gone; a stopped subscription's debt is paid by its restart",
    "stoppedSubscriptionPaymentOptions": "3.17: restarts read the subscription's ordinary billing options",
    "createOrphanPaymentMethod": "3.17: payment methods are made by the Payments API (v2), through a payment session",
    "createPaymentMethodInRepo": "3.17: payment methods are made by the Payments API (v2), through a payment session",
    "digitalAccess": "3.17: POST DigitalAccess removed from the Entitlements API",
    "creditCardSecurityCode": "3.17: a deprecated PaymentMethods column (and PM-4: never stored)",
    "merchantPaymentMethodId": "3.17: a deprecated PaymentMethods column (the gateway token replaces it)",
    "billingSystemPaymentMethodId": "3.17: the external payment method id is the gateway token now",
    "billingSystemCustomerId": "3.17: a deprecated PaymentMethods column (the gateway customer id replaces it)",
    "customerSpecifiedType": "3.17: a deprecated PaymentMethods column",
    "creditCardLastDigits": "3.17: a deprecated PaymentMethods column (cardLast4)",
    "creditCardExpirationDate": "3.17: a deprecated PaymentMethods column (cardExpiry)",
    "creditCardType": "3.17: renamed creditCardTypeId (cardBrand)",
    "routingNumber": "3.17: renamed BankRoutingNumber",
    "displayPayButton": "3.17: removed from the restart payment page",
    "renewalOptionsSection": "3.17: deprecated in the restart module",
    "hideRedeliveryTable": "deprecated in the temporary-stop module",
}
BACKTICKED = re.compile(r"`([^`]+)`")


def schema_elements():
    """(path, name, deprecation reason or None) of every public element of the served schema."""
    schema = build_schema()._schema
    for type_name, kind in schema.type_map.items():
        if type_name.startswith("__"):
            continue
        yield type_name, type_name, None
        if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType)):
            for name, field in kind.fields.items():
                yield f"{type_name}.{name}", name, field.deprecation_reason
                for arg_name, arg in field.args.items():
                    yield f"{type_name}.{name}({arg_name}:)", arg_name, arg.deprecation_reason
        elif isinstance(kind, GraphQLInputObjectType):
            for name, field in kind.fields.items():
                yield f"{type_name}.{name}", name, field.deprecation_reason
        elif isinstance(kind, GraphQLEnumType):
            for name, value in kind.values.items():
                yield f"{type_name}.{name}", name, value.deprecation_reason


def names_in_schema() -> set[str]:
    return {name for _, name, _ in schema_elements()}


def _replacements_exist(reason: str, names: set[str]) -> bool:
    """The reason names its replacement in backticks (`restartSubscription`, `Payment.total`), and it exists."""
    named = [re.split(r"[.(]", token.strip())[-1] or token for token in BACKTICKED.findall(reason)]
    return bool(named) and all(name.rstrip(":)") in names for name in named)


def test_api3_what_the_source_platform_deprecated_is_absent_or_marked_with_its_replacement():
    names = names_in_schema()
    offending = []
    for path, name, reason in schema_elements():
        key = next((k for k in SOURCE_DEPRECATED if k.lower() == name.lower()), None)
        if key is not None and not (reason and _replacements_exist(reason, names)):
            offending.append(f"{path}: {SOURCE_DEPRECATED[key]}")

    assert offending == [], "deprecated by the source platform: remove, or @deprecated naming the replacement"


def test_api3_every_deprecated_element_names_a_replacement_that_exists():
    names = names_in_schema()
    bad = [f"{path}: {reason!r}" for path, _, reason in schema_elements()
           if reason is not None and not _replacements_exist(reason, names)]

    assert bad == [], "a @deprecated reason must name its replacement in backticks, e.g. 'Use `restartSubscription`'"


@pytest.mark.parametrize("reason, expected", [
    ("Use `restartSubscription`.", True),
    ("Use `PaymentMethod.bankRoutingNumber`.", True),
    ("No longer supported.", False),
    ("Use `noSuchField`.", False),
])
def test_api3_a_reason_counts_only_when_its_replacement_is_in_the_schema(reason, expected):
    assert _replacements_exist(reason, names_in_schema()) is expected
