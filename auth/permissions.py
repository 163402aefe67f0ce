"""Who may resolve a field: rules declared next to the field they guard.

Every root query and mutation field, every relation field that crosses into another staff section, and
every federation entity's `resolve_reference` names its rules:

    @strawberry.field(extensions=allow(staff_read(SUBSCRIPTIONS), partner_read(SUBSCRIPTIONS),
                                       customer_linked(arg("id"))))

A field resolves when any one of its rules allows the request's principal. Otherwise it answers null
with an error coded UNAUTHENTICATED (anonymous request) or FORBIDDEN (anyone else) whose message names
what would have been allowed; the rest of the response resolves as usual.

The principals (auth/principals.py):
- staff: an access level per section (MGR-1); reading needs READ_ONLY or more, changing FULL_CONTROL and,
  when the tenant sets `Security.RequireManagerMfa`, a token with a second factor (MGR-2);
- partners: the scopes of their client-credentials token, `read:<section>` and `write:<section>` (a write
  scope includes reading; MGR-3);
- customers: their own registration, and the subscriptions linked to it: guests read, owners also pay,
  restart, cancel and change auto-pay (LNK-3). Of other registrations a customer sees nothing but their
  guests' names and e-mail (LNK-4: `registration_data` guards every other field of a registration). A
  LITE or UNVERIFIED registration is refused authentication altogether, 401 before any field (USR-8,
  app.py `get_context`); `CustomerRule` refuses it again should a principal reach a rule another way;
- anonymous: only fields allowed to `ANYONE`.

The tenant of every rule is the request's own (TEN-1): links, registrations and access levels are read
for `context.tenant` only, so no rule can grant anything in another tenant.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping, Protocol, Sequence

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from auth.principals import (  # noqa: F401  (the sections are re-exported: fields name them from here)
    ENTITLEMENTS,
    HOUSEHOLD_LEVELS,
    OFFERS,
    PAYMENTS,
    REGISTRATIONS,
    SETTINGS,
    SUBSCRIPTIONS,
    AccessLevel,
    Principal,
    PrincipalKind,
)
from domain.ids import integer_id
from coded_error import CodedError


class Context(Protocol):
    """The facts a rule decides from, as the request context (resolvers/context.py) provides them: auth/ is given
    these and imports nothing of resolvers/."""

    principal: Principal
    tenant: Any  # TenantContext: `.settings.flag(name)` (MGR-2)
    loaders: Any  # the request's loaders: `link_by_id`

    async def customer_registration(self) -> Any: ...

    async def customer_link_roles(self) -> Mapping[str, str]: ...

    def customer_registration_now(self) -> tuple[bool, Any]: ...

    def customer_link_roles_now(self) -> Mapping[str, str] | None: ...

REQUIRE_MANAGER_MFA = "Security.RequireManagerMfa"
CREATED_CRIDS = "created_crids"  # context.extra: CRIDs the request created, or proved with a link (verifyEmail)
OWNER, GUEST = "OWNER", "GUEST"

Value = Callable[[Any, dict[str, Any]], Any]  # (source, field arguments) -> the value a rule checks


class Denied(CodedError):
    """The principal may not resolve this field."""


def arg(*path: str) -> Value:
    """A field argument, e.g. `arg("id")` or `arg("input", "subscription_id")` (Python names)."""

    def value(source: Any, kwargs: dict[str, Any]) -> Any:
        current: Any = kwargs.get(path[0])
        for name in path[1:]:
            if current is None:
                return None
            current = getattr(current, name, None)
        return current

    value.__qualname__ = f"arg({'.'.join(path)})"
    return value


def parent(name: str) -> Value:
    """An attribute of the object the field belongs to, e.g. `parent("id")` on a subscription."""

    def value(source: Any, kwargs: dict[str, Any]) -> Any:
        return getattr(source, name, None)

    value.__qualname__ = f"parent({name})"
    return value


def _text(value: Any) -> str | None:
    return str(value).strip() if value is not None and str(value).strip() else None


class Rule:
    """One way to be allowed. `allows` answers a bool, or an awaitable of one."""

    description = ""

    def allows(self, context: "Context", source: Any, kwargs: dict[str, Any]) -> bool | Awaitable[bool]:
        raise NotImplementedError


@dataclass(frozen=True)
class Anyone(Rule):
    description = "anyone"

    def allows(self, context, source, kwargs) -> bool:
        return True


@dataclass(frozen=True)
class SignedIn(Rule):
    description = "anyone signed in"

    def allows(self, context, source, kwargs) -> bool:
        return not context.principal.is_anonymous


@dataclass(frozen=True)
class StaffSelf(Rule):
    """A staff member acting on their own account: the manager subject the field names is absent or their
    own (MGR-2: enrolling, verifying and disabling one's own second factor)."""

    subject: Value

    description = "a staff member (own account)"

    def allows(self, context, source, kwargs) -> bool:
        principal = context.principal
        subject = _text(self.subject(source, kwargs))
        return principal.kind is PrincipalKind.STAFF and (subject is None or subject == principal.subject)


@dataclass(frozen=True)
class StaffAccess(Rule):
    """MGR-1: at least `level` in `section`; a `change` also needs the second factor when the tenant
    requires it (MGR-2)."""

    section: str
    level: AccessLevel
    change: bool

    @property
    def description(self) -> str:
        return f"staff with {self.level.value} access to {self.section}"

    def allows(self, context, source, kwargs) -> bool:
        principal = context.principal
        if principal.kind is not PrincipalKind.STAFF or not principal.has_level(self.section, self.level):
            return False
        if self.change and context.tenant.settings.flag(REQUIRE_MANAGER_MFA) and not principal.mfa:
            # MGR-2: the staff member has the level, but not in this sign-in: say so rather than "forbidden"
            raise Denied("This change needs a second factor (MGR-2): sign in again with your authenticator code",
                         code="FORBIDDEN", reason="MFA_REQUIRED")
        return True


@dataclass(frozen=True)
class PartnerScope(Rule):
    """MGR-3: `read:<section>` reads; `write:<section>` reads and changes."""

    section: str
    change: bool

    @property
    def description(self) -> str:
        return f"a partner with scope {'write' if self.change else 'read'}:{self.section}"

    def allows(self, context, source, kwargs) -> bool:
        principal = context.principal
        if principal.kind is not PrincipalKind.PARTNER:
            return False
        write = f"write:{self.section}" in principal.scopes
        return write or (not self.change and f"read:{self.section}" in principal.scopes)


class CustomerRule(Rule):
    """A rule about the customer's own registration and links; refuses LITE and UNVERIFIED registrations
    (USR-8) before looking any further.

    Decided without awaiting when the request already knows what the rule needs (`customer_allows_now`
    answers a bool): the registration is read for every customer request before any field runs, and
    `linkedSubscriptions` primes the customer's link roles, so a dashboard's per-subscription rules (LNK-3)
    cost no coroutine. Otherwise the rule awaits (`customer_allows`)."""

    def allows(self, context, source, kwargs) -> bool | Awaitable[bool]:
        if context.principal.kind is not PrincipalKind.CUSTOMER:
            return False
        known, registration = context.customer_registration_now()
        if known:
            _refuse_unverified(registration)
            decided = self.customer_allows_now(context, source, kwargs)
            if decided is not None:
                return decided
        return self._allows_later(context, source, kwargs)

    async def _allows_later(self, context, source, kwargs) -> bool:
        _refuse_unverified(await context.customer_registration())
        return await self.customer_allows(context, source, kwargs)

    def customer_allows_now(self, context, source, kwargs) -> bool | None:
        """The decision when it needs nothing the request has yet to read; None otherwise."""
        return None

    async def customer_allows(self, context, source, kwargs) -> bool:
        raise NotImplementedError


def _refuse_unverified(registration: Any) -> None:
    if registration is not None and registration.state.value in ("LITE", "UNVERIFIED"):
        raise Denied("This registration cannot sign in until it is verified and has a password (USR-8)",
                     code="FORBIDDEN", reason="REGISTRATION_NOT_VERIFIED")


@dataclass(frozen=True)
class AnyCustomer(CustomerRule):
    """Any signed-in customer, acting on their own registration (the field takes the CRID from the token)."""

    description = "a signed-in customer (own registration)"

    def customer_allows_now(self, context, source, kwargs) -> bool:
        return True

    async def customer_allows(self, context, source, kwargs) -> bool:
        return True


@dataclass(frozen=True)
class CustomerSelf(CustomerRule):
    """The CRID the field is about is the customer's own."""

    crid: Value

    description = "the customer it belongs to"

    def customer_allows_now(self, context, source, kwargs) -> bool:
        return _text(self.crid(source, kwargs)) == context.principal.crid

    async def customer_allows(self, context, source, kwargs) -> bool:
        return _text(self.crid(source, kwargs)) == context.principal.crid


@dataclass(frozen=True)
class CustomerLinked(CustomerRule):
    """The subscription is linked to the customer's registration; `roles` narrows the link's role."""

    subscription: Value
    roles: frozenset[str] = frozenset({OWNER, GUEST})

    @property
    def description(self) -> str:
        return "the subscription's owner (LNK-3)" if self.roles == {OWNER} else "a customer linked to the subscription"

    def customer_allows_now(self, context, source, kwargs) -> bool | None:
        subscription_id = _text(self.subscription(source, kwargs))
        if subscription_id is None:
            return False
        roles = context.customer_link_roles_now()
        return None if roles is None else roles.get(subscription_id) in self.roles

    async def customer_allows(self, context, source, kwargs) -> bool:
        subscription_id = _text(self.subscription(source, kwargs))
        if subscription_id is None:
            return False
        return (await context.customer_link_roles()).get(subscription_id) in self.roles


@dataclass(frozen=True)
class CustomerSelfOrOwnersGuest(CustomerRule):
    """A registration shown next to a link (LNK-4): the customer's own, or a GUEST of a subscription the
    customer owns (an owner sees who their guests are: names and e-mail only, which the Registration
    type's other fields enforce with `REGISTRATION_DATA`). A co-owner or the owner seen by a guest is not."""

    crid: Value
    subscription: Value
    role: Value

    description = "the registration itself, or the owner of the subscription the guest is linked to"

    async def customer_allows(self, context, source, kwargs) -> bool:
        if _text(self.crid(source, kwargs)) == context.principal.crid:
            return True
        role = self.role(source, kwargs)
        if getattr(role, "value", role) != GUEST:
            return False
        subscription_id = _text(self.subscription(source, kwargs))
        return (await context.customer_link_roles()).get(subscription_id) == OWNER


@dataclass(frozen=True)
class StaffOrPartner(Rule):
    """Staff or a partner: the field that led to the object already decided their access (LNK-4 guards a
    registration's identifiers and data against customers and anonymous requests only)."""

    description = "staff or a partner"

    def allows(self, context, source, kwargs) -> bool:
        return context.principal.kind in (PrincipalKind.STAFF, PrincipalKind.PARTNER)


@dataclass(frozen=True)
class CreatedInRequest(Rule):
    """The registration this very request created (a self-service sign-up sees the account it just made), or
    proved to be the caller's with a code sent to its e-mail (verifyEmail)."""

    crid: Value

    description = "the request that created it"

    def allows(self, context, source, kwargs) -> bool:
        return _text(self.crid(source, kwargs)) in context.extra.get(CREATED_CRIDS, ())


@dataclass(frozen=True)
class CustomerManagesLink(CustomerRule):
    """A link (by id) the customer may change: one of a subscription the customer owns, or, with
    `own_link`, the customer's own link (a guest may leave a subscription)."""

    link_id: Value
    own_link: bool = False

    @property
    def description(self) -> str:
        return "the owner of the link's subscription" + (", or the linked customer" if self.own_link else "")

    async def customer_allows(self, context, source, kwargs) -> bool:
        link_id = integer_id(self.link_id(source, kwargs))
        if link_id is None:
            return False
        found = await context.loaders.link_by_id.load(link_id)
        if found is None:
            return False
        link, crid = found
        if self.own_link and crid == context.principal.crid:
            return True
        return (await context.customer_link_roles()).get(link.subscription_id) == OWNER


@dataclass(frozen=True)
class Unprivileged(Rule):
    """`inner` allows, and the input asks for none of what only staff and partners may ask for (e.g.
    `ignoreProvider`, a chosen CRID, an already-verified e-mail)."""

    inner: Rule
    privileged: tuple[tuple[str, Callable[[Any, dict[str, Any]], bool]], ...]

    @property
    def description(self) -> str:
        return f"{self.inner.description}, without {', '.join(label for label, _ in self.privileged)}"

    async def allows(self, context, source, kwargs) -> bool:
        if any(asks(source, kwargs) for _, asks in self.privileged):
            return False
        allowed = self.inner.allows(context, source, kwargs)
        return await allowed if inspect.isawaitable(allowed) else allowed


def asks_true(*path: str) -> Callable[[Any, dict[str, Any]], bool]:
    value = arg(*path)
    return lambda source, kwargs: bool(value(source, kwargs))


def asks_false(*path: str) -> Callable[[Any, dict[str, Any]], bool]:
    value = arg(*path)
    return lambda source, kwargs: value(source, kwargs) is False


def asks_value(*path: str) -> Callable[[Any, dict[str, Any]], bool]:
    value = arg(*path)
    return lambda source, kwargs: _text(value(source, kwargs)) is not None


@dataclass(frozen=True)
class CustomerLinkLookup(CustomerRule):
    """LNK-1 lookups: every key given is the customer's own (CRID, registration id) or a subscription
    linked to the customer."""

    crid: Value
    registration_id: Value
    subscription: Value

    description = "the customer whose CRID, registration or linked subscription is asked for"

    async def customer_allows(self, context, source, kwargs) -> bool:
        crid = _text(self.crid(source, kwargs))
        registration_id = _text(self.registration_id(source, kwargs))
        subscription_id = _text(self.subscription(source, kwargs))
        if crid is None and registration_id is None and subscription_id is None:
            return False
        if crid is not None and crid != context.principal.crid:
            return False
        if registration_id is not None:
            registration = await context.customer_registration()
            if registration is None or str(registration.registration_id) != registration_id:
                return False
        if subscription_id is not None and subscription_id not in await context.customer_link_roles():
            return False
        return True


# -- the rule vocabulary fields use ------------------------------------------------------------------
ANYONE = Anyone()
SIGNED_IN = SignedIn()
ANY_STAFF = StaffSelf(lambda source, kwargs: None)  # own account, whatever the access levels
ANY_CUSTOMER = AnyCustomer()
STAFF_OR_PARTNER = StaffOrPartner()


def registration_data(crid: Value) -> tuple[Rule, Rule, Rule]:
    """LNK-4: a registration's identifiers and data (CRID, ids, metadata, state, links) are for staff,
    partners, the registration's own customer and the request that created it; no other customer and no
    other anonymous request sees them."""
    return STAFF_OR_PARTNER, CustomerSelf(crid), CreatedInRequest(crid)


def staff_read(section: str) -> Rule:
    return StaffAccess(section, AccessLevel.READ_ONLY, change=False)


def staff_change(section: str) -> Rule:
    return StaffAccess(section, AccessLevel.FULL_CONTROL, change=True)


def staff_full_control_read(section: str) -> Rule:
    """Reading what only full control of `section` may see (e.g. access levels, MGR-1); no second factor."""
    return StaffAccess(section, AccessLevel.FULL_CONTROL, change=False)


def partner_read(section: str) -> Rule:
    return PartnerScope(section, change=False)


def partner_write(section: str) -> Rule:
    return PartnerScope(section, change=True)


def reads(section: str) -> tuple[Rule, Rule]:
    """Staff with READ_ONLY or more, or a partner with `read:`/`write:` scope, of `section`."""
    return staff_read(section), partner_read(section)


def changes(section: str) -> tuple[Rule, Rule]:
    """Staff with FULL_CONTROL (and MFA where required), or a partner with `write:` scope, of `section`."""
    return staff_change(section), partner_write(section)


def customer_self(crid: Value) -> Rule:
    return CustomerSelf(crid)


def customer_linked(subscription: Value) -> Rule:
    return CustomerLinked(subscription)


def customer_owner(subscription: Value) -> Rule:
    return CustomerLinked(subscription, frozenset({OWNER}))


# -- enforcement -------------------------------------------------------------------------------------
class Guard(FieldExtension):
    """The field extension `allow(...)` declares: any one rule suffices.

    The decision is made without awaiting whenever the rules allow it (most do: they read the principal),
    and the field's own resolver is then called directly, sync or async as it is. strawberry's
    PermissionExtension with an async `has_permission` turned every guarded field into an awaited
    coroutine chain (and a gathered task per field of every list item); measured with `python -m bench
    profile`, that was a tenth of a dashboard's CPU. Only a rule that must read (a customer's links)
    makes the field wait."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        if not rules:
            raise ValueError("a field needs at least one rule")
        self.rules = tuple(rules)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        pending = decide(info.context, self.rules, source, kwargs, info.field_name)
        if pending is None:
            return next_(source, info, **kwargs)
        return _resolve_after(pending, next_, source, info, kwargs)

    # the same for async resolvers: the resolver's awaitable is handed back, not awaited in another frame
    resolve_async = resolve  # type: ignore[assignment]


async def _resolve_after(pending: Awaitable[None], next_: Callable[..., Any], source: Any, info: Info,
                         kwargs: dict[str, Any]) -> Any:
    await pending
    result = next_(source, info, **kwargs)
    return await result if inspect.isawaitable(result) else result


def allow(*rules: Rule | tuple[Rule, ...]) -> list[Guard]:
    """The field extension that guards a field with `rules` (tuples from `reads`/`changes` are flattened)."""
    flat: list[Rule] = []
    for rule in rules:
        flat.extend(rule if isinstance(rule, tuple) else (rule,))
    return [Guard(flat)]


def decide(context: "Context", rules: Sequence[Rule], source: Any, kwargs: dict[str, Any],
           what: str) -> Awaitable[None] | None:
    """None when one of `rules` allows the request's principal without reading anything; `Denied` raised
    when none does; otherwise an awaitable that finishes the decision (and raises `Denied`)."""
    for index, rule in enumerate(rules):
        allowed = rule.allows(context, source, kwargs)
        if inspect.isawaitable(allowed):
            return _decide_later(allowed, context, rules[index + 1:], source, kwargs, what, rules)
        if allowed:
            return None
    raise denial(context, rules, what)


async def _decide_later(first: Awaitable[bool], context: "Context", rest: Sequence[Rule], source: Any,
                        kwargs: dict[str, Any], what: str, rules: Sequence[Rule]) -> None:
    if await first:
        return
    for rule in rest:
        allowed = rule.allows(context, source, kwargs)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        if allowed:
            return
    raise denial(context, rules, what)


async def check(context: "Context", rules: Sequence[Rule], source: Any, kwargs: dict[str, Any], what: str) -> None:
    """Raise `Denied` unless one of `rules` allows the request's principal."""
    pending = decide(context, rules, source, kwargs, what)
    if pending is not None:
        await pending


def denial(context: "Context", rules: Sequence[Rule], what: str) -> Denied:
    needs = "; ".join(dict.fromkeys(rule.description for rule in rules))
    if context.principal.is_anonymous:
        return Denied(f"Sign in: `{what}` is for {needs}", code="UNAUTHENTICATED")
    return Denied(f"Not allowed: `{what}` is for {needs}", code="FORBIDDEN")


def rules_of(field: Any) -> tuple[Rule, ...] | None:
    """The rules declared on a strawberry field, or None when it declares none (used by the tests that
    make sure every field has a decision)."""
    for extension in getattr(field, "extensions", None) or ():
        if isinstance(extension, Guard):
            return extension.rules
    return None


def guarded_reference(*rules: Rule | tuple[Rule, ...]):
    """Decorates an entity's `resolve_reference` (federation `_entities`): the same rules as a field, with
    the entity's key arguments as `kwargs`. A denied key answers null with the error, like a field."""
    flat: list[Rule] = []
    for rule in rules:
        flat.extend(rule if isinstance(rule, tuple) else (rule,))

    def decorate(resolve):
        target = resolve.__func__ if isinstance(resolve, classmethod) else resolve

        async def guarded(cls, info: Info, **keys: Any):
            await check(info.context, flat, None, keys, f"_entities({cls.__name__})")
            return await target(cls, info, **keys)

        guarded.__name__ = target.__name__
        guarded.__doc__ = target.__doc__
        guarded.__papergraph_rules__ = tuple(flat)
        return classmethod(guarded)

    return decorate
