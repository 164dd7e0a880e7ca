"""The rendered Action, executed by Node with the pinned auth0 SDK against a fake tenant."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.action_code import render_action
from infra.config import parse_config
from tests.support.fake_management_api import ENABLED_CONNECTION, MEMBERS, TOKEN, Fault

ALICE = "auth0|alice"
BOB = "auth0|bob"
MARKER = {"org_assignment": {"org_T3stAcme": True}}


def with_action(config: dict[str, Any], **options: Any) -> dict[str, Any]:
    config = copy.deepcopy(config)
    config["action"] = options
    return config


def test_first_login_assigns_with_one_token_and_one_call(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(stack_config)
    login = action.login(ALICE)
    assert login.outcome == "assigned"
    assert tenant.members == {ALICE}
    assert (tenant.tokens_issued, tenant.calls[MEMBERS]) == (1, 1)
    assert login.app_metadata_set == MARKER


def test_repeat_logins_make_no_call(run_action: Any, stack_config: dict[str, Any]) -> None:
    action, tenant = run_action(stack_config)
    action.login(ALICE)
    calls_after_first = sum(tenant.calls.values())
    for _ in range(5):
        login = action.login(ALICE)
        assert login.outcome == "skipped-already-member"
        assert login.report["via"] == "app-metadata"
    assert sum(tenant.calls.values()) == calls_after_first


def test_assigned_user_in_a_new_container_loads_no_sdk(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(stack_config)
    assert action.loaded["sdk_loaded"] is False
    login = action.login(ALICE, app_metadata=MARKER)
    assert login.outcome == "skipped-already-member"
    assert login.sdk_loaded is False
    assert sum(tenant.calls.values()) == 0


def test_login_through_the_target_organization_is_skipped(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(stack_config)
    login = action.login(ALICE, organization_id="org_T3stAcme")
    assert (login.outcome, login.report["via"]) == ("skipped-already-member", "organization-login")
    assert login.sdk_loaded is False
    assert sum(tenant.calls.values()) == 0


def test_marker_for_another_organization_does_not_skip(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, _ = run_action(stack_config)
    login = action.login(ALICE, app_metadata={"org_assignment": {"org_other": True}})
    assert login.outcome == "assigned"
    assert login.app_metadata_set == {"org_assignment": {"org_other": True, "org_T3stAcme": True}}


def test_warm_token_assigns_with_one_call(run_action: Any, stack_config: dict[str, Any]) -> None:
    action, tenant = run_action(stack_config)
    action.login(ALICE)
    login = action.login(BOB)
    assert (login.outcome, login.report["token"]) == ("assigned", "cache")
    assert (tenant.tokens_issued, tenant.calls[MEMBERS]) == (1, 2)


def test_cached_token_expires_before_the_token_does(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(stack_config, token_lifetime_s=3600)
    action.login(ALICE)
    action.advance_clock(3600_000 - 61_000)
    action.login(BOB)
    assert tenant.tokens_issued == 1
    action.advance_clock(2_000)  # now within a minute of the token's expiry
    login = action.login("auth0|carol")
    assert (login.outcome, login.report["token"]) == ("assigned", "fetched")
    assert tenant.tokens_issued == 2


def test_cache_is_used_within_auth0_limits(run_action: Any, stack_config: dict[str, Any]) -> None:
    action, _ = run_action(stack_config, token_lifetime_s=7 * 86400)
    action.login(ALICE)
    state = action.state()
    assert state["cache_errors"] == []
    assert len(state["cache_keys"]) == 1
    assert len(state["cache_keys"][0].encode()) <= 64


def test_rejected_token_is_fetched_once_more(run_action: Any, stack_config: dict[str, Any]) -> None:
    action, tenant = run_action(stack_config)
    action.login(ALICE)
    tenant.revoke_tokens()
    login = action.login(BOB)
    assert login.outcome == "assigned"
    assert tenant.tokens_issued == 2
    assert tenant.members == {ALICE, BOB}


def test_connection_not_in_the_list_is_skipped_without_a_call(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(stack_config)
    login = action.login(ALICE, connection="github")
    assert (login.outcome, login.report["via"]) == ("skipped-connection", "static-list")
    assert login.sdk_loaded is False
    assert sum(tenant.calls.values()) == 0
    assert login.app_metadata_set is None


def test_api_mode_checks_the_connection_through_the_management_api(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(with_action(stack_config, connectionCheck="api"))
    assert action.login(ALICE).outcome == "assigned"
    assert (tenant.calls[ENABLED_CONNECTION], tenant.calls[MEMBERS]) == (1, 1)
    tenant.enabled_connection_ids.clear()
    login = action.login(BOB)
    assert (login.outcome, login.report["via"]) == ("skipped-connection", "management-api")
    assert (tenant.calls[ENABLED_CONNECTION], tenant.calls[MEMBERS]) == (2, 1)
    assert login.app_metadata_set is None


@pytest.mark.parametrize("connection_check", ["static", "api"])
def test_each_granted_scope_is_needed(
    run_action: Any, stack_config: dict[str, Any], connection_check: str
) -> None:
    config = with_action(stack_config, connectionCheck=connection_check)
    granted = set(render_action(parse_config(config, "test")).scopes)
    for scope in sorted(granted):
        action, tenant = run_action(config, granted_scopes=granted - {scope})
        login = action.login(ALICE)
        assert (login.outcome, login.report["reason"]) == ("failed", "http-403"), scope
        assert tenant.denied_scope[scope] == 1
        assert tenant.members == set()


@pytest.mark.parametrize("endpoint", [TOKEN, MEMBERS])
@pytest.mark.parametrize("status", [500, 503])
def test_server_error_fails_open_then_next_login_assigns(
    run_action: Any, stack_config: dict[str, Any], endpoint: str, status: int
) -> None:
    action, tenant = run_action(stack_config)
    tenant.faults[endpoint] = Fault(status=status)
    login = action.login(ALICE)
    assert (login.outcome, login.report["reason"]) == ("failed", f"http-{status}")
    assert login.denied is None
    assert tenant.calls[endpoint] == 2  # one retry, because the budget allowed it
    del tenant.faults[endpoint]
    assert action.login(ALICE).outcome == "assigned"


@pytest.mark.parametrize("endpoint", [TOKEN, MEMBERS])
def test_rate_limit_is_retried_after_retry_after_within_the_budget(
    run_action: Any, stack_config: dict[str, Any], endpoint: str
) -> None:
    action, tenant = run_action(stack_config)
    tenant.faults[endpoint] = Fault(status=429, retry_after_s=1, times=1)
    login = action.login(ALICE)
    assert login.outcome == "assigned"
    assert tenant.calls[endpoint] == 2
    assert 1000 <= login.ms < 3000


def test_rate_limit_longer_than_the_budget_fails_without_waiting(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(stack_config)
    tenant.faults[MEMBERS] = Fault(status=429, retry_after_s=30)
    login = action.login(ALICE)
    assert (login.outcome, login.report["reason"]) == ("failed", "http-429")
    assert tenant.calls[MEMBERS] == 1
    assert login.ms < 1000


@pytest.mark.parametrize("endpoint", [TOKEN, MEMBERS])
def test_hung_endpoint_is_cut_off_at_the_time_budget(
    run_action: Any, stack_config: dict[str, Any], endpoint: str
) -> None:
    budget_ms = 1000
    action, tenant = run_action(with_action(stack_config, timeBudgetMs=budget_ms))
    if endpoint == MEMBERS:
        action.login(BOB)  # warm the token so the members call is what hangs
    tenant.faults[endpoint] = Fault(hang_s=10, times=1)
    login = action.login(ALICE)
    assert (login.outcome, login.report["reason"]) == ("failed", "time-budget-exceeded")
    assert budget_ms * 0.9 <= login.ms < budget_ms + 250
    # The fault is gone: the next login of the same user assigns.
    assert action.login(ALICE).outcome == "assigned"
    assert action.state()["unhandled_rejections"] == []


def test_fail_closed_denies_with_the_generic_message(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(with_action(stack_config, failurePolicy="closed"))
    tenant.faults[MEMBERS] = Fault(status=500)
    login = action.login(ALICE)
    assert login.outcome == "failed"
    assert login.denied == "Sign-in could not be completed. Please try again later."
    del tenant.faults[MEMBERS]
    assert action.login(ALICE).denied is None


def test_fail_closed_does_not_deny_skipped_logins(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, _ = run_action(with_action(stack_config, failurePolicy="closed"))
    assert action.login(ALICE, connection="github").denied is None


def test_no_log_line_holds_a_secret_or_a_token(
    run_action: Any, stack_config: dict[str, Any]
) -> None:
    action, tenant = run_action(stack_config)
    logs: list[str] = []
    logs += action.login(ALICE).logs
    tenant.faults[MEMBERS] = Fault(status=500)  # its body echoes the client secret
    logs += action.login(BOB).logs
    tenant.faults[MEMBERS] = Fault(status=401)
    logs += action.login("auth0|carol").logs
    tenant.faults[TOKEN] = Fault(status=403)
    tenant.revoke_tokens()
    logs += action.login("auth0|dave").logs
    assert len(logs) == 4
    assert len(tenant.issued_tokens) == 2
    for line in logs:
        for secret in [tenant.client_secret, *tenant.issued_tokens]:
            assert secret not in line
        assert "secret_echo" not in line
        assert "fake." not in line


HOSTILE = [
    "quote\"s and 'single'",
    "back`tick` ${process.exit(1)}",
    "</script><script>alert(1)</script>",
    "line\nbreak\u2028sep",
    "unicodé-名前-🙂",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_config_values_stay_data(
    run_action: Any, stack_config: dict[str, Any], name: str
) -> None:
    config = with_action(stack_config, failurePolicy="closed", denyMessage=f"Sorry: {name}")
    config["connections"] = [name]
    action, tenant = run_action(config)
    assert action.login(ALICE, connection=name).outcome == "assigned"
    assert action.login(BOB, connection="Username-Password-Authentication").outcome == (
        "skipped-connection"
    )
    tenant.faults[MEMBERS] = Fault(status=500)
    assert action.login("auth0|carol", connection=name).denied == f"Sorry: {name}"
