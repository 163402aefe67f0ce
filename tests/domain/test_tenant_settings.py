"""SET-1, SET-2 (changing a tenant's settings) as plain functions: each kind of value, its bounds, the field each
refusal names and what it says, for `make mutate`."""

from __future__ import annotations

import pytest

from domain.money import RuleError
from domain.tenant_settings import (
    AMOUNTS,
    CHOICES,
    COUNTS,
    FLAGS,
    KNOWN_KEYS,
    MAX_TEXT,
    PERCENTAGES,
    SettingChange,
    effective_settings,
    validate_setting_changes,
)
from domain.tenants import SETTING_DEFAULTS, TenantSettings

CURRENT = TenantSettings("The Daily", {"Restart.ApplyCreditBalance": "0", "Subscription.MaxLinks": "10"})
FEE = "Billing.CreditCard.ProcessingFee.Percentage"
TIP = "Payments.MaximumTipAmountAllowed"
MAX_LINKS, OWNERS, GUESTS = "Subscription.MaxLinks", "Subscription.DefaultOwnersLimit", "Subscription.DefaultGuestsLimit"


def refusal(changes, current: TenantSettings = CURRENT) -> RuleError:
    with pytest.raises(RuleError) as caught:
        validate_setting_changes(changes, current)
    assert caught.value.rule == "SET-2"
    return caught.value


def test_set2_the_kinds_of_settings():
    assert FLAGS == {"Billing.CreditCard.ProcessingFee.Enable", "Billing.CreditCard.ProcessingFee.Tax.Enable",
                     "Restart.ApplyCreditBalance", "Purchase.GenerateCRN", "Security.RequireManagerMfa",
                     "Auth0.App.LogOutFromIDP", "Config.System.RestrictCreateUser"}  # SET-4's two flags
    assert CHOICES == {"Flow.Auth0.IntegrationType": ("", "Custom"), "Flow.AddressMove": ("", "RealTime"),
                       "MelissaDataIntegration": ("", "GlobalOnPremise", "GlobalCheckAPI")}
    assert PERCENTAGES == {FEE, "Billing.CreditCard.ProcessingFee.Tax.Percentage"}
    assert AMOUNTS == {"DTI.ActivationFeeAmount", TIP}
    assert COUNTS == {MAX_LINKS, OWNERS, GUESTS}
    assert KNOWN_KEYS == set(SETTING_DEFAULTS) | {"NavigaPay.StatementDescriptor"}
    assert MAX_TEXT == 1000


def test_set2_changes_are_trimmed_normalised_and_keep_the_values_they_replace():
    changes = validate_setting_changes([(" Restart.ApplyCreditBalance ", " 1 "), (FEE, "10.5"), (TIP, "0"),
                                        (MAX_LINKS, "007"), ("Site.FrontEndUrl", " https://x.example ")], CURRENT)

    assert changes == [SettingChange("Restart.ApplyCreditBalance", "0", "1"), SettingChange(FEE, None, "10.5"),
                       SettingChange(TIP, None, "0"), SettingChange(MAX_LINKS, "10", "7"),
                       SettingChange("Site.FrontEndUrl", None, "https://x.example")]


@pytest.mark.parametrize("key,value,message", [
    ("Purchase.GenerateCRN", "2", "Purchase.GenerateCRN is a flag: 0 or 1"),
    ("Purchase.GenerateCRN", "true", "Purchase.GenerateCRN is a flag: 0 or 1"),
    ("Purchase.GenerateCRN", None, "Purchase.GenerateCRN is a flag: 0 or 1"),
    (FEE, "ten", f"{FEE} must be a number"),
    (FEE, "100.01", f"{FEE} must be between 0 and 100"),
    (FEE, "-1", f"{FEE} must be between 0 and 100"),
    (FEE, "NaN", f"{FEE} must be between 0 and 100"),
    (TIP, "-0.01", f"{TIP} must be 0 or more"),
    (TIP, "Infinity", f"{TIP} must be 0 or more"),
    (MAX_LINKS, "0", f"{MAX_LINKS} must be a whole number of at least 1"),
    (MAX_LINKS, "1.5", f"{MAX_LINKS} must be a whole number of at least 1"),
    (GUESTS, "-1", f"{GUESTS} must be a whole number"),
    ("Site.FrontEndUrl", "x" * 1001, "Site.FrontEndUrl must be at most 1000 characters"),
])
def test_set2_a_value_out_of_its_kinds_bounds_is_refused_naming_the_entry(key, value, message):
    error = refusal([("Restart.ApplyCreditBalance", "1"), (key, value)])

    assert (str(error), error.field) == (message, ["input", "settings", "1", "value"])


@pytest.mark.parametrize("key,value", [(FEE, "100"), (FEE, "0"), (TIP, "1000000"), ("Site.FrontEndUrl", "x" * 1000),
                                       (GUESTS, "0"), ("Purchase.GenerateCRN", "0")])
def test_set2_the_bounds_themselves_are_accepted(key, value):
    [change] = validate_setting_changes([(key, value)], CURRENT)

    assert change.new == value


def test_set2_an_unknown_or_repeated_key_is_refused_naming_the_key():
    error = refusal([("Unknown.Key", "1")])
    assert (str(error), error.field) == ("Unknown setting 'Unknown.Key'", ["input", "settings", "0", "key"])
    error = refusal([(None, "1")])
    assert str(error) == "Unknown setting ''"
    error = refusal([(TIP, "1"), (f" {TIP}", "2")])
    assert (str(error), error.field) == (f"The setting {TIP} is given more than once",
                                         ["input", "settings", "1", "key"])


def test_set2_the_owner_and_guest_limits_stay_within_max_links():
    error = refusal([(OWNERS, "0")])
    assert (str(error), error.field) == (f"{OWNERS} must be between 1 and Subscription.MaxLinks (10)",
                                         ["input", "settings", "0", "value"])
    error = refusal([(GUESTS, "11")])
    assert str(error) == f"{GUESTS} must be between 0 and Subscription.MaxLinks (10)"
    # lowering MaxLinks below the guests' default (5) names the MaxLinks entry
    error = refusal([("Restart.ApplyCreditBalance", "1"), (MAX_LINKS, "4")])
    assert (str(error), error.field) == (f"{GUESTS} must be between 0 and Subscription.MaxLinks (4)",
                                         ["input", "settings", "1", "value"])
    assert [c.new for c in validate_setting_changes([(MAX_LINKS, "5"), (OWNERS, "5"), (GUESTS, "5")], CURRENT)] == [
        "5", "5", "5"]


def test_set2_the_limits_are_checked_against_the_stored_values_too():
    current = TenantSettings("T", {MAX_LINKS: "3", GUESTS: "2"})

    error = refusal([(OWNERS, "4")], current)

    assert (str(error), error.field) == (f"{OWNERS} must be between 1 and Subscription.MaxLinks (3)",
                                         ["input", "settings", "0", "value"])


def test_set2_an_entry_not_about_the_limits_is_named_first_when_the_stored_limits_are_broken():
    current = TenantSettings("T", {MAX_LINKS: "3", GUESTS: "4"})

    error = refusal([("Purchase.GenerateCRN", "1")], current)

    assert error.field == ["input", "settings", "0", "value"]


def test_set1_the_effective_settings_are_every_known_key_with_its_value_in_force():
    settings = effective_settings(TenantSettings("The Daily", {TIP: "25.00"}))

    assert list(settings) == sorted(KNOWN_KEYS)
    assert settings[TIP] == "25.00" and settings["Restart.DTI.ReasonCode"] == "payment"
    assert settings["NavigaPay.StatementDescriptor"] == "The Daily" and settings["Site.FrontEndUrl"] == ""


@pytest.mark.parametrize("key,value", [("Flow.Auth0.IntegrationType", "Custom"), ("Flow.AddressMove", "RealTime"),
                                       ("MelissaDataIntegration", "GlobalCheckAPI"), ("Flow.AddressMove", ""),
                                       ("MelissaDataIntegration", "GlobalOnPremise")])
def test_set4_a_flow_setting_takes_a_named_value_or_empty(key, value):
    assert validate_setting_changes([(key, value)], CURRENT)[0].new == value


@pytest.mark.parametrize("key,value,named", [
    ("Flow.Auth0.IntegrationType", "custom", "'', 'Custom'"),
    ("Flow.AddressMove", "Realtime", "'', 'RealTime'"),
    ("MelissaDataIntegration", "1", "'', 'GlobalOnPremise', 'GlobalCheckAPI'"),
])
def test_set4_any_other_value_is_refused_naming_the_choices(key, value, named):
    with pytest.raises(RuleError) as caught:
        validate_setting_changes([(key, value)], CURRENT)
    assert (str(caught.value), caught.value.rule) == (f"{key} must be one of {named}", "SET-4")


@pytest.mark.parametrize("key", ["Auth0.App.LogOutFromIDP", "Config.System.RestrictCreateUser"])
def test_set4_the_new_flags_are_0_or_1(key):
    assert validate_setting_changes([(key, "1")], CURRENT)[0].new == "1"
    refusal([(key, "true")])
