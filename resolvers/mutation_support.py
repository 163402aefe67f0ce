"""What every mutation of the registrations, purchase, links, catalog and entitlements domains shares:
the `<Name>Error` type built from the mutation's error-code enum (Saleor style: `CreateUser`,
`CreateUserErrorCode`, `CreateUserError { code field message }`), and `Refusal`, the exception a
mutation raises anywhere in its flow to end with user errors instead of a result."""

from enum import Enum
from typing import Optional, Sequence

import strawberry

from domain.money import RuleError
from domain.registrations import RegistrationRuleError


def error_type(name: str, codes: type[Enum]) -> type:
    """`<name>Error { code: <name>ErrorCode!, field: [String!], message: String! }`."""
    namespace = {"__annotations__": {"code": codes, "field": Optional[list[str]], "message": str},
                 "__module__": __name__}
    return strawberry.type(type(f"{name}Error", (), namespace),
                           description=f"A reason `{name[0].lower()}{name[1:]}` refused its input.")


class Refusal(Exception):
    """Ends a mutation with one user error (`code` a member of the mutation's error-code enum)."""

    def __init__(self, code: Enum, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = list(field) if field is not None else None

    @classmethod
    def from_rule(cls, error: RuleError | RegistrationRuleError, code: Enum) -> "Refusal":
        return cls(code, str(error), error.field)

    def as_error(self, error_cls: type):
        return error_cls(code=self.code, field=self.field, message=self.message)
