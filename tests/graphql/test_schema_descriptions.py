"""Every public schema element says what it is (issue 19 item 15): GraphiQL's docs pane and partners' generated
clients show these descriptions. The walk covers every type, field, argument, input field and enum value of the
public schema; GraphQL's own introspection types and the federation machinery (`_service`, `_entities`, `_Any`,
`link__Import`, …) are not papergraph's to describe."""

from graphql import (
    GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema,
    GraphQLUnionType, is_specified_scalar_type,
)

from schema import build_schema

FEDERATION_FIELDS = {("Query", "_service"), ("Query", "_entities")}


def public_named_types(schema: GraphQLSchema):
    for name, named in schema.type_map.items():
        if name.startswith("__") or name.startswith("_") or name.startswith("link__") or name.startswith("federation__"):
            continue
        if is_specified_scalar_type(named):
            continue
        yield name, named


def undocumented(schema: GraphQLSchema) -> list[str]:
    missing: list[str] = []

    def need(path: str, description: str | None) -> None:
        if not (description or "").strip():
            missing.append(path)

    for name, named in public_named_types(schema):
        need(name, named.description)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in named.fields.items():
                if (name, field_name) in FEDERATION_FIELDS:
                    continue
                need(f"{name}.{field_name}", field.description)
                for arg_name, arg in field.args.items():
                    need(f"{name}.{field_name}({arg_name})", arg.description)
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                need(f"{name}.{field_name}", field.description)
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                need(f"{name}.{value_name}", value.description)
        elif isinstance(named, GraphQLUnionType):
            pass
    return missing


def test_every_public_schema_element_has_a_description():
    # given
    schema = build_schema()._schema

    # when
    missing = undocumented(schema)

    # then
    assert missing == [], f"{len(missing)} schema elements without a description"


def test_the_walk_finds_an_element_without_a_description():
    # given: a schema with one undocumented argument and enum value, so the walk cannot pass by seeing nothing
    from graphql import build_schema as parse_sdl

    schema = parse_sdl('''
        "The root." type Query { "A field." answer("" x: Int): Colour }
        "A colour." enum Colour { "Red." RED BLUE }
    ''')

    # then
    assert undocumented(schema) == ["Query.answer(x)", "Colour.BLUE"]


def test_the_schema_points_at_the_rules_document():
    # given
    schema = build_schema()._schema

    # then: rule ids in descriptions resolve to docs/rules.md (tests/test_rules_doc.py keeps it complete)
    assert "docs/rules.md" in schema.query_type.description


def test_no_description_names_an_element_the_schema_lacks(monkeypatch):
    # given
    from schema import descriptions

    schema = build_schema()._schema

    # when: as built, and with an entry left behind by a rename
    as_built = descriptions.describe(schema)
    monkeypatch.setitem(descriptions.MEMBERS, "CustomerSubscription.renamedAway", "Gone.")
    with_stale = descriptions.describe(schema)

    # then
    assert as_built == []
    assert with_stale == ["CustomerSubscription.renamedAway"]


def test_error_codes_say_when_they_happen():
    # given
    schema = build_schema()._schema

    # when
    total_mismatch = schema.type_map["MakePaymentErrorCode"].values["TOTAL_MISMATCH"].description

    # then
    assert "PAY-1" in total_mismatch and "nothing is charged" in total_mismatch
