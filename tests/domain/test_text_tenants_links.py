"""USR-4 (free text), TEN-1/TEN-2 (tenant settings and their defaults) and LNK-2 (link limits) as plain functions:
the values each rule defines, for `make mutate`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.links import GUEST, OWNER, check_allowed_registrations, check_link_limits, check_role_change
from domain.money import RuleError
from domain.tenants import CIRCULATION_KINDS, SETTING_DEFAULTS, TenantSettings
from domain.text import REFUSED_CATEGORIES, forbidden_character, free_text, printable


# -- USR-4: free text ------------------------------------------------------------------------------------------
def test_usr4_the_refused_categories():
    assert REFUSED_CATEGORIES == frozenset({"Cc", "Cf", "Zl", "Zp"})


@pytest.mark.parametrize("text", ["Émile Zoë", "O'Brien-Smith", "李小龙", "مرحبا", "a b\u00a0c", "~", " ", "", "\u00ff"])
def test_usr4_letters_of_every_script_spaces_and_punctuation_are_text(text):
    assert forbidden_character(text) is None
    assert free_text(text, ["input", "name"]) == text
    assert printable(text) == text


@pytest.mark.parametrize("char", ["\x00", "\n", "\r", "\t", "\x1b", "\x1f", "\x7f", "\x85", "\u202e", "\u2066",
                                  "\u200b", "\u00ad", "\ufeff", "\u2028", "\u2029"])
def test_usr4_control_format_and_separator_characters_are_refused(char):
    assert forbidden_character("ab" + char + "c\x01") == char  # the first one found

    with pytest.raises(RuleError) as caught:
        free_text("ab" + char, ["input", "firstName"])
    assert (caught.value.field, caught.value.rule) == (["input", "firstName"], "USR-4")
    assert printable("a" + char + "b") == "ab"


def test_usr4_the_refusal_names_the_field_and_the_character():
    with pytest.raises(RuleError) as caught:
        free_text("a\u202eb", ["input", "lastName"], rule="CMP-1")
    assert str(caught.value) == ("`lastName` contains a control or invisible character (U+202E Right-To-Left "
                                 "Override)")
    assert caught.value.rule == "CMP-1"
    with pytest.raises(RuleError) as caught:
        free_text("a\x00", [])
    assert str(caught.value) == "`text` contains a control or invisible character (U+0000)"  # NUL has no name


def test_usr4_none_is_none():
    assert free_text(None, ["input", "x"]) is None
    assert printable(None) is None


# -- TEN-1, TEN-2 ------------------------------------------------------------------------------------------------
def test_ten1_the_four_circulation_kinds():
    assert CIRCULATION_KINDS == ("NCS", "MATRIX", "CIRCPRO", "SAXO")


def test_ten2_the_defaults():
    assert SETTING_DEFAULTS == {
        "Billing.CreditCard.ProcessingFee.Enable": "0",
        "Billing.CreditCard.ProcessingFee.Percentage": "0",
        "Billing.CreditCard.ProcessingFee.Tax.Enable": "0",
        "Billing.CreditCard.ProcessingFee.Tax.Percentage": "0",
        "DTI.ActivationFeeAmount": "0",
        "Restart.ApplyCreditBalance": "0",
        "Restart.DTI.ReasonCode": "payment",
        "Restart.DTI.SourceCode": "MG2",
        "Payments.MaximumTipAmountAllowed": "100.00",
        "Purchase.GenerateCRN": "0",
        "Subscription.MaxLinks": "10",
        "Subscription.DefaultOwnersLimit": "1",
        "Subscription.DefaultGuestsLimit": "5",
        "Flow.UserProvider": "Auth0",
        "Auth0.App.Connection": "Username-Password-Authentication",
        "PostalCodeMask": "99999",
        "Security.RequireManagerMfa": "0",
        "Auth0.App.LogOutFromIDP": "0",  # SET-4
        "Flow.Auth0.IntegrationType": "",
        "Flow.AddressMove": "",
        "MelissaDataIntegration": "",
        "Config.System.RestrictCreateUser": "0",
        "Site.FrontEndUrl": "",
    }


def test_ten2_a_tenants_value_wins_over_the_default():
    settings = TenantSettings("The Daily", {"Subscription.MaxLinks": " 3 ", "Restart.ApplyCreditBalance": " 1",
                                            "Payments.MaximumTipAmountAllowed": " 25.50 ", "X": ""})

    assert settings.get("Subscription.MaxLinks") == " 3 " and settings.integer("Subscription.MaxLinks") == 3
    assert settings.flag("Restart.ApplyCreditBalance") is True
    assert settings.decimal("Payments.MaximumTipAmountAllowed") == Decimal("25.50")
    assert settings.get("Subscription.DefaultGuestsLimit") == "5"
    assert settings.get("Unknown.Setting") is None
    # an empty or absent value reads as 0 / false
    assert (settings.flag("X"), settings.decimal("X"), settings.integer("X")) == (False, Decimal("0"), 0)
    assert (settings.flag("Unknown"), settings.decimal("Unknown"), settings.integer("Unknown")) == (
        False, Decimal("0"), 0)


@pytest.mark.parametrize("value,flag", [("1", True), (" 1 ", True), ("0", False), ("true", False), ("2", False)])
def test_ten2_a_flag_is_on_only_for_1(value, flag):
    assert TenantSettings("T", {"Security.RequireManagerMfa": value}).flag("Security.RequireManagerMfa") is flag


def test_gw3_the_statement_descriptor_defaults_to_the_tenants_name():
    assert TenantSettings("The Daily").statement_descriptor == "The Daily"
    assert TenantSettings("The Daily").get("NavigaPay.StatementDescriptor") == "The Daily"
    assert TenantSettings("The Daily", {"NavigaPay.StatementDescriptor": "DAILY"}).statement_descriptor == "DAILY"
    assert TenantSettings("The Daily", {"NavigaPay.StatementDescriptor": ""}).statement_descriptor == "The Daily"


# -- LNK-2 -------------------------------------------------------------------------------------------------------
LIMITS = dict(owners_limit=1, guests_limit=2, max_links=3)


def refusal(call) -> RuleError:
    with pytest.raises(RuleError) as caught:
        call()
    assert caught.value.rule == "LNK-2"
    return caught.value


def test_lnk2_up_to_each_limit_counting_the_new_link():
    check_link_limits([], OWNER, **LIMITS)
    check_link_limits([OWNER], GUEST, **LIMITS)
    check_link_limits([OWNER, GUEST], GUEST, **LIMITS)
    check_link_limits([GUEST, GUEST], OWNER, **LIMITS)


def test_lnk2_one_more_than_a_limit_is_refused_with_it():
    error = refusal(lambda: check_link_limits([OWNER], OWNER, **LIMITS))
    assert (str(error), error.field) == ("The subscription already has the maximum of 1 owner(s)", ["input", "role"])
    error = refusal(lambda: check_link_limits([GUEST, GUEST], GUEST, **LIMITS))
    assert str(error) == "The subscription already has the maximum of 2 guest(s)"
    error = refusal(lambda: check_link_limits([OWNER, GUEST, GUEST], GUEST, field=("input", "x"), **LIMITS))
    assert (str(error), error.field) == ("The subscription already has the maximum of 3 links", ["input", "x"])


def test_lnk2_the_total_is_checked_before_the_role():
    error = refusal(lambda: check_link_limits([OWNER, GUEST, GUEST], OWNER, **LIMITS))

    assert str(error) == "The subscription already has the maximum of 3 links"


def test_lnk2_another_role_is_only_counted_in_the_total():
    check_link_limits([OWNER, GUEST], "VIEWER", **LIMITS)


def test_lnk2_a_role_change_counts_against_the_new_roles_limit_only():
    check_role_change([OWNER, GUEST], GUEST, OWNER, owners_limit=2, guests_limit=2, max_links=2)
    error = refusal(lambda: check_role_change([OWNER, GUEST], GUEST, OWNER, **LIMITS))
    assert str(error) == "The subscription already has the maximum of 1 owner(s)"
    check_role_change([OWNER, GUEST, GUEST], OWNER, GUEST, owners_limit=1, guests_limit=3, max_links=3)


def test_ofr7_links_may_not_exceed_the_offers_allowed_registrations():
    """OFR-7: every link (pending invitations counted) up to the allowance passes; one more is refused; None sets
    no bound."""
    check_allowed_registrations(3, 3)
    check_allowed_registrations(0, 0)
    check_allowed_registrations(500, None)
    with pytest.raises(RuleError) as caught:
        check_allowed_registrations(4, 3)
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "The subscription's offer allows 3 registrations", ["input", "subscriptionId"], "OFR-7")
    with pytest.raises(RuleError) as caught:
        check_allowed_registrations(1, 0, ["input", "crid"])
    assert (str(caught.value), caught.value.field) == ("The subscription's offer allows 0 registrations",
                                                       ["input", "crid"])
