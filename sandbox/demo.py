"""The deterministic demo and benchmark dataset, shared by the database seeder and the emulators.

`generate(scale)` returns plain dicts: the same scale (and anchor date) always gives the same data, so
papergraph's database and the three emulators are seeded consistently even when the emulators run in
their own processes. Per tenant, scale N gives 25·N registrations and 250·N subscriptions: scale 1 is
the demo (100 registrations, 1,000 subscriptions), scale 100 the benchmark set (10k / 100k).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterator

REGISTRATIONS_PER_SCALE = 25
SUBSCRIPTIONS_PER_SCALE = 250

TENANTS: list[dict[str, Any]] = [
    {
        "code": "NCSDEMO", "name": "The Daily Ledger", "circulation_kind": "NCS",
        "time_zone": "America/New_York", "currency": "USD", "postal_prefix": "100", "postal_digits": 5,
        "settings": {
            "Billing.CreditCard.ProcessingFee.Enable": "1",
            "Billing.CreditCard.ProcessingFee.Percentage": "3.5",
            "Billing.CreditCard.ProcessingFee.Tax.Enable": "1",
            "Billing.CreditCard.ProcessingFee.Tax.Percentage": "7",
            "DTI.ActivationFeeAmount": "5.00",
            "Restart.ApplyCreditBalance": "1",
        },
    },
    {
        "code": "MTXDEMO", "name": "Nordic Morning", "circulation_kind": "MATRIX",
        "time_zone": "Europe/Oslo", "currency": "NOK", "postal_prefix": "03", "postal_digits": 4,
        "settings": {"PostalCodeMask": "9999", "Security.RequireManagerMfa": "1"},
    },
    {
        "code": "CPRDEMO", "name": "Valley Courier", "circulation_kind": "CIRCPRO",
        "time_zone": "America/Chicago", "currency": "USD", "postal_prefix": "606", "postal_digits": 5,
        "settings": {"Flow.UserProvider": "MG2"},
    },
    {
        "code": "SAXDEMO", "name": "Harbour Post", "circulation_kind": "SAXO",
        "time_zone": "Australia/Sydney", "currency": "AUD", "postal_prefix": "20", "postal_digits": 4,
        "settings": {"PostalCodeMask": "9999", "Purchase.GenerateCRN": "1", "Payments.MaximumTipAmountAllowed": "50.00"},
    },
]

FIRST_NAMES = ["Ada", "Bjorn", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kiri", "Liam",
               "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Yusuf"]
LAST_NAMES = ["Andersen", "Brown", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
              "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Quist", "Rossi", "Schmidt", "Tanaka"]
STREETS = ["Main St", "Harbour Rd", "Elm Ave", "King St", "Queen St", "Park Lane", "Mill Rd", "Church St"]
HOUSEHOLD_LEVELS = [
    (1, "Single", True), (2, "Couple", True), (3, "Family", True), (4, "Family with students", True),
    (5, "Senior", True), (6, "Business", True), (7, "Legacy bundle", False), (8, "", True),
]
STATUSES = ["ACTIVE"] * 6 + ["STOPPED", "PERMANENTLY_STOPPED", "PAUSED", "IN_GRACE"]
CARD_BRANDS = ["VISA", "MASTERCARD", "AMEX", "DISCOVER"]
ENTITLEMENTS = [
    ("EEDITION", "E-edition replica", "https://eedition.example.com/open"),
    ("PREMIUM", "Premium articles", "https://www.example.com/premium"),
    ("PUZZLES", "Puzzles and games", None),
]
# Staff of every tenant (MGR-1), in the identity provider whatever the tenant's customer provider: one per
# access level. `name@<papercode>.example.com`, password STAFF_PASSWORD. The admin of a tenant that requires a
# second factor (MGR-2) is enrolled with a TOTP authenticator (its current code: the Auth0 emulator's
# `GET /_sandbox/otp/<user_id>`, or `python -m cli token admin --tenant MTXDEMO`).
STAFF_PASSWORD = "Demo-staff-1!"
CUSTOMER_PASSWORD = "Demo-pass-1!"
_ALL = ("subscriptions", "registrations", "payments", "household_levels", "entitlements", "offers", "settings")
STAFF = {
    "admin": {section: "FULL_CONTROL" for section in _ALL},
    "csr": {"subscriptions": "FULL_CONTROL", "registrations": "FULL_CONTROL", "payments": "FULL_CONTROL",
            "household_levels": "READ_ONLY", "entitlements": "READ_ONLY", "offers": "READ_ONLY",
            "settings": "NO_ACCESS"},
    "viewer": {**{section: "READ_ONLY" for section in _ALL}, "settings": "NO_ACCESS"},
    "intern": {section: "NO_ACCESS" for section in _ALL},
}


def staff_user_id(paper_code: str, name: str) -> str:
    return f"auth0|staff-{name}-{paper_code.lower()}"


# ENT-2: the entitlements a subscription to each demo offer includes, by offer name
OFFER_ENTITLEMENTS = {
    "All Access Digital": ["EEDITION", "PREMIUM"],
    "7-Day Print + Digital": ["EEDITION", "PREMIUM", "PUZZLES"],
    "Weekend Print (expired promo)": ["EEDITION"],
}


@dataclass
class DemoData:
    anchor: date
    tenants: list[dict[str, Any]] = field(default_factory=list)
    household_levels: list[dict[str, Any]] = field(default_factory=list)
    offer_groups: list[dict[str, Any]] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)
    entitlements: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)  # circulation records
    links: list[dict[str, Any]] = field(default_factory=list)
    payment_methods: list[dict[str, Any]] = field(default_factory=list)  # papergraph's masked copies
    gateway_profiles: list[dict[str, Any]] = field(default_factory=list)  # NavigaPay's tokenized profiles
    identity_users: list[dict[str, Any]] = field(default_factory=list)  # Auth0 users (Auth0 tenants only)

    def subscriptions_of(self, paper_code: str) -> Iterator[dict[str, Any]]:
        return (s for s in self.subscriptions if s["paperCode"] == paper_code)


def _hex(*parts: Any, length: int = 24) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:length]


def money(value: Decimal | str | int) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def crid_for(paper_code: str, index: int, provider: str) -> str:
    prefix = "mg2" if provider == "MG2" else "auth0"
    return f"{prefix}|{_hex(paper_code, 'registration', index)}"


def subscription_id(paper_code: str, index: int) -> str:
    return f"{paper_code[:3]}-{index + 1:07d}"


def account_number(paper_code: str, index: int) -> str:
    # two subscriptions per account on every 9th account, so grouped expiry notices (NOT-2) have groups
    return f"{100000 + (index - (1 if index % 9 == 1 else 0)):07d}"


def generate(scale: int = 1, anchor: date | None = None) -> DemoData:
    anchor = anchor or date.today()
    data = DemoData(anchor=anchor)
    for tenant_index, tenant in enumerate(TENANTS):
        _tenant(data, tenant_index, tenant, scale, anchor)
    return data


def shared(scale: int = 1) -> DemoData:
    """`generate(scale)` for today, made once per process and shared: for callers that only read it (the app loads
    the in-process emulators from it at every start, and a test session starts hundreds of apps). Never mutate it."""
    return _shared(scale, date.today())


@functools.lru_cache(maxsize=4)
def _shared(scale: int, anchor: date) -> DemoData:
    return generate(scale, anchor)


def _tenant(data: DemoData, t: int, tenant: dict[str, Any], scale: int, anchor: date) -> None:
    code = tenant["code"]
    kind = tenant["circulation_kind"]
    provider = tenant["settings"].get("Flow.UserProvider", "Auth0")
    data.tenants.append({k: v for k, v in tenant.items() if k not in ("postal_prefix", "postal_digits")})
    for level_id, description, active in HOUSEHOLD_LEVELS:
        data.household_levels.append({"tenant": code, "id": level_id, "description": description, "active": active})

    # offers: two groups, three offers, each with terms and rates; the print offer delivers to 3 postal codes
    postal_codes = [_postal(tenant, n) for n in range(5)]
    groups = [
        {"tenant": code, "id": t * 100 + 1, "name": "Digital", "category": "DIGITAL"},
        {"tenant": code, "id": t * 100 + 2, "name": "Print and digital", "category": "PRINT"},
    ]
    data.offer_groups.extend(groups)
    offers = [
        {
            "tenant": code, "id": t * 100 + 11, "group_id": groups[0]["id"], "name": "All Access Digital",
            "vendor": tenant["name"], "logo_url": f"https://cdn.example.com/{code.lower()}/digital.png",
            "short_description": "Unlimited articles, apps and the e-edition.", "category": "DIGITAL",
            "trial_available": True, "activation_fee": money(0), "digital": True,
            "valid_from": anchor - timedelta(days=365), "valid_to": anchor + timedelta(days=365),
            "allowed_registrations": 5, "delivery_areas": [],
            "validation": {"no_existing": True},  # BUY-6: the check runs
            "check_criteria": {"last_name": True, "email": True, "phone": False, "address": False, "postal_code": False},
            "terms": [
                {"id": t * 1000 + 111, "code": "1M", "length": 1, "length_unit": "MONTH", "rate": money("9.99"),
                 "tax": money("0.80"), "commercial": True},
                {"id": t * 1000 + 112, "code": "12M", "length": 12, "length_unit": "MONTH", "rate": money("99.00"),
                 "tax": money("7.92"), "commercial": True},
                {"id": t * 1000 + 113, "code": "TRIAL", "length": 4, "length_unit": "WEEK", "rate": money("1.00"),
                 "tax": money("0.00"), "commercial": False},
            ],
        },
        {
            "tenant": code, "id": t * 100 + 12, "group_id": groups[1]["id"], "name": "7-Day Print + Digital",
            "vendor": tenant["name"], "logo_url": f"https://cdn.example.com/{code.lower()}/print7.png",
            "short_description": "The paper on your doorstep every day, plus all digital access.",
            "category": "PRINT", "trial_available": False, "activation_fee": money("4.95"), "digital": False,
            "valid_from": anchor - timedelta(days=365), "valid_to": anchor + timedelta(days=365),
            "allowed_registrations": 3, "delivery_areas": postal_codes[:3],
            "validation": {"no_existing": True},  # BUY-6: the check runs
            "check_criteria": {"last_name": True, "email": False, "phone": False, "address": False, "postal_code": True},
            "terms": [
                {"id": t * 1000 + 121, "code": "13W", "length": 13, "length_unit": "WEEK", "rate": money("65.00"),
                 "tax": money("5.20"), "commercial": True},
                {"id": t * 1000 + 122, "code": "52W", "length": 52, "length_unit": "WEEK", "rate": money("240.00"),
                 "tax": money("19.20"), "commercial": True},
            ],
        },
        {
            "tenant": code, "id": t * 100 + 13, "group_id": groups[1]["id"], "name": "Weekend Print (expired promo)",
            "vendor": tenant["name"], "logo_url": f"https://cdn.example.com/{code.lower()}/weekend.png",
            "short_description": "Saturday and Sunday papers.", "category": "PRINT", "trial_available": False,
            "activation_fee": money(0), "digital": False,
            "valid_from": anchor - timedelta(days=400), "valid_to": anchor - timedelta(days=30),
            "allowed_registrations": 2, "delivery_areas": postal_codes[:2],
            "validation": {"no_existing": True},  # BUY-6: the check runs
            "check_criteria": {"last_name": False, "email": True, "phone": True, "address": False, "postal_code": False},
            "terms": [
                {"id": t * 1000 + 131, "code": "26W", "length": 26, "length_unit": "WEEK", "rate": money("52.00"),
                 "tax": money("4.16"), "commercial": True},
            ],
        },
    ]
    for offer in offers:
        offer["entitlements"] = OFFER_ENTITLEMENTS[offer["name"]]
    data.offers.extend(offers)
    for ent_code, description, redirect in ENTITLEMENTS:
        data.entitlements.append({"tenant": code, "code": ent_code, "description": description, "redirect_url": redirect})

    n_regs = REGISTRATIONS_PER_SCALE * scale
    for r in range(n_regs):
        first, last = FIRST_NAMES[r % len(FIRST_NAMES)], LAST_NAMES[(r * 7 + t) % len(LAST_NAMES)]
        crid = crid_for(code, r, provider)
        email = f"{first.lower()}.{last.lower()}.{r}@{code.lower()}.example.com"
        # USR-1: on MG2 some registrations are LITE (no password) or UNVERIFIED; third parties are STANDARD
        has_password = provider != "MG2" or r % 10 != 3
        verified = provider != "MG2" or r % 10 != 4
        data.registrations.append({
            "tenant": code, "crid": crid, "email": email, "first_name": first, "last_name": last,
            "has_password": has_password, "email_verified": verified,
            "metadata": {"favouriteSection": ["news", "sport", "culture"][r % 3], "memberSince": str(2010 + r % 15)},
        })
        if provider == "Auth0":
            data.identity_users.append({
                "tenant": code, "user_id": crid, "email": email, "given_name": first, "family_name": last,
                "email_verified": True, "password": CUSTOMER_PASSWORD,
                "app_metadata": {"paperCode": code}, "user_metadata": {},
            })
    for name, access in STAFF.items():
        mfa = name == "admin" and tenant["settings"].get("Security.RequireManagerMfa") == "1"
        data.identity_users.append({
            "tenant": code, "user_id": staff_user_id(code, name), "email": f"{name}@{code.lower()}.example.com",
            "given_name": name.title(), "family_name": "Staff", "email_verified": True, "password": STAFF_PASSWORD,
            "app_metadata": {"paperCode": code, "role": "staff", "access": access, **({"mfa_enrolled": True} if mfa
                                                                                      else {})},
            "user_metadata": {},
        })

    n_subs = SUBSCRIPTIONS_PER_SCALE * scale
    for j in range(n_subs):
        sid = subscription_id(code, j)
        status = STATUSES[j % len(STATUSES)]
        kind_ = ("TRIAL" if j % 17 == 3 else "COMPLIMENTARY" if j % 23 == 5 else "GIFT" if j % 29 == 7
                 else "PAID_PASS" if j % 31 == 11 else "REGULAR")
        offer = offers[1] if j % 3 == 0 else offers[0]
        digital = offer["digital"]
        balance = (Decimal(-((j % 40) + 1) * 3) - Decimal("0.45") if j % 5 == 0
                   else Decimal((j % 25) + 2) + Decimal("0.10") if j % 5 == 1 else Decimal(0))
        stopped = status in ("STOPPED", "PERMANENTLY_STOPPED")
        auto_pay = j % 3 == 1 and not stopped and kind_ == "REGULAR"
        ebill = j % 7 == 2 and not auto_pay and not stopped
        start = anchor - timedelta(days=30 + (j * 37) % 900)
        end = anchor + timedelta(days=(j * 13) % 120 - 20) if not stopped else anchor - timedelta(days=1 + j % 60)
        reg_index = j % n_regs
        first = FIRST_NAMES[reg_index % len(FIRST_NAMES)]
        last = LAST_NAMES[(reg_index * 7 + t) % len(LAST_NAMES)]
        postal = postal_codes[j % len(postal_codes)]
        options = []
        for term in offer["terms"]:
            if not term["commercial"]:
                continue
            amount = Decimal(term["rate"]) + Decimal(term["tax"])
            options.append({
                "term": term["code"], "length": term["length"], "lengthUnit": term["length_unit"],
                "rate": term["rate"], "tax": term["tax"], "otherCosts": money(0), "amount": money(amount),
                "autoRenew": auto_pay,
            })
        stops = []
        if status == "ACTIVE" and j % 11 == 0:
            stops.append({"id": f"{sid}-V1", "startDate": (anchor + timedelta(days=10)).isoformat(),
                          "endDate": (anchor + timedelta(days=17)).isoformat(), "reason": "VACATION"})
        data.subscriptions.append({
            "id": sid, "paperCode": code, "accountNumber": account_number(code, j), "status": status,
            "kind": kind_, "deliverySchedule": "DayPass" if kind_ == "PAID_PASS" else ("Digital" if digital else "7-Day"),
            "digital": digital, "startDate": start.isoformat(), "endDate": end.isoformat(),
            "balance": money(balance), "currency": tenant["currency"], "autoPay": auto_pay, "ebill": ebill,
            "billingMethod": "CARRIER_COLLECT" if j % 4 == 2 else "MAIL",
            "householdLevelId": 1 + j % len(HOUSEHOLD_LEVELS),
            "customerReferenceNumber": "", "name": None, "productCode": str(offer["id"]),
            "restartScheduled": status == "STOPPED" and j % 13 == 6,
            "subscriber": {
                "firstName": first, "lastName": last,
                "email": f"{first.lower()}.{last.lower()}.{reg_index}@{code.lower()}.example.com",
                "phones": [f"+1555{(j * 7919) % 10_000_000:07d}"] if j % 6 else [],
                "companyName": "Acme Media" if j % 19 == 0 else None,
                "address": {"houseNumber": str(1 + j % 200), "streetName": STREETS[j % len(STREETS)],
                            "city": "Springfield", "postalCode": postal, "country": "US"},
            },
            "billingOptions": options, "scheduledStops": stops,
        })
        data.links.append({"tenant": code, "crid": crid_for(code, reg_index, provider), "subscription_id": sid,
                           "role": "OWNER"})
        if j % 7 == 0 and n_regs > 1:
            data.links.append({"tenant": code, "crid": crid_for(code, (reg_index + 1) % n_regs, provider),
                               "subscription_id": sid, "role": "GUEST"})
        if auto_pay or j % 10 == 2:
            is_bank = j % 8 == 4 and kind in ("NCS", "SAXO", "CIRCPRO")
            profile_id = f"prof_{_hex(code, 'profile', j, length=20)}"
            customer_id = f"cus_{_hex(code, 'customer', reg_index, length=16)}"
            method = {
                "tenant": code, "subscription_id": sid, "type": "BANK" if is_bank else "CREDIT_CARD",
                "gateway_token": profile_id, "gateway_customer_id": customer_id,
                "card_brand": None if is_bank else CARD_BRANDS[j % len(CARD_BRANDS)],
                "card_last4": None if is_bank else f"{(4242 + j) % 10000:04d}",
                "card_expiry": None if is_bank else f"{1 + j % 12:02d}/{(anchor.year + 1 + j % 4) % 100:02d}",
                "bank_name": "First Community Bank" if is_bank else None,
                "bank_account_masked": f"****{(6789 + j) % 10000:04d}" if is_bank else None,
                "bank_routing_number": "021000021" if is_bank else None,
            }
            data.payment_methods.append(method)
            data.gateway_profiles.append({
                "profileId": profile_id, "customerId": customer_id, "merchant": code,
                "paymentType": "BANK" if is_bank else "CREDIT_CARD", "brand": method["card_brand"],
                "last4": method["card_last4"] or method["bank_account_masked"][-4:], "expiry": method["card_expiry"],
                "bankName": method["bank_name"], "routingNumber": method["bank_routing_number"],
            })


def _postal(tenant: dict[str, Any], n: int) -> str:
    prefix = tenant["postal_prefix"]
    return (prefix + str(n * 3 + 1).zfill(tenant["postal_digits"] - len(prefix)))[: tenant["postal_digits"]]
