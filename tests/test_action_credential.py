"""``ActionCredential``'s provider against a local tenant, without the engine: the slot switch,
the retirement of the previous secret, drift, and its refusals. The engine's own run of it
(state, logins during a rotation) is tests/test_credential_lifecycle.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment import action_code, action_credential, credentials
from devtools.localtenant.testing import LocalTenant, TenantError

pytestmark = pytest.mark.slow


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    with LocalTenant.spawn(tmp_path / "state.json") as process:
        yield process


@pytest.fixture
def deployer(tenant: LocalTenant, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The deployer's credentials in the environment, as the deploy job passes them."""
    made = tenant.m2m_client("deployer", sorted(credentials.DEPLOY))
    monkeypatch.setenv("AUTH0_CLIENT_ID", made["client_id"])
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", made["client_secret"])
    monkeypatch.setenv("SSL_CERT_FILE", tenant.ca_cert)
    return made


def slots(tenant: LocalTenant) -> dict[str, dict[str, str]]:
    return {
        slot: tenant.m2m_client(f"slot {slot}", ["create:organization_members"])
        for slot in action_credential.SLOTS
    }


def props(tenant: LocalTenant, action_id: str, made: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "tenant_domain": tenant.domain,
        "action_ids": [action_id],
        "slot_clients": {slot: made[slot]["client_id"] for slot in made},
        "rotation": 0,
        "grace_ms": 0,
        "in_tenant": True,
    }


def works(tenant: LocalTenant, client: dict[str, str]) -> bool:
    try:
        tenant.https_api(client).token()
    except TenantError:
        return False
    return True


def an_action(tenant: LocalTenant) -> str:
    return tenant.deploy_action("assign", "exports.onExecutePostLogin = async () => {};")


def test_a_switch_writes_the_idle_slot_and_retires_every_secret_handed_out_before(
    tenant: LocalTenant, deployer: dict[str, str]
) -> None:
    made = slots(tenant)
    action_id = an_action(tenant)
    first = action_credential.switch(props(tenant, action_id, made), previous=None)
    assert first["active_slot"] == "b"
    assert first["active_client_id"] == made["b"]["client_id"]
    action = tenant.call("GET", f"/api/v2/actions/actions/{action_id}")
    assert sorted(s["name"] for s in action["secrets"]) == sorted(
        [*action_code.SECRET_NAMES, action_credential.MARKER + made["b"]["client_id"]]
    )
    assert action["deployed_version"]["secrets"] == action["secrets"]
    # Both secrets anyone held before are dead: b's was rotated into the Action, a's retired.
    assert not works(tenant, made["a"])
    assert not works(tenant, made["b"])
    second = action_credential.switch(first, previous=first["active_slot"])
    assert second["active_slot"] == "a"
    assert second["secrets_updated_at"] != first["secrets_updated_at"]
    # The outputs hold ids and stamps, nothing else.
    assert set(second) == {
        *action_credential.INPUTS,
        "grace_ms",
        "active_slot",
        "active_client_id",
        "secrets_updated_at",
        "switched_at",
    }


def graces(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits of a time budget's length the switch makes (its polls, half a second each,
    still sleep)."""
    waited: list[float] = []
    real = time.sleep

    def sleep(seconds: float) -> None:
        if seconds >= 1:
            waited.append(seconds)
        else:
            real(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return waited


def test_a_first_switch_retires_at_once_when_no_action_held_a_secret(
    tenant: LocalTenant, deployer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No login can hold a secret no Action ever held: a stack's first deploy does not wait."""
    waited = graces(monkeypatch)
    made = slots(tenant)
    first = action_credential.switch(
        {**props(tenant, an_action(tenant), made), "grace_ms": 7000}, previous=None
    )
    assert waited == []
    assert not works(tenant, made["a"])
    action_credential.switch({**first, "grace_ms": 7000}, previous=first["active_slot"])
    assert waited == [8.0]


def test_a_first_switch_waits_when_an_action_already_held_a_secret(
    tenant: LocalTenant, deployer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stack whose Action held a secret before this resource existed (an earlier release's,
    under another name, or one pasted by hand): a login may still hold it, so the switch waits
    the budget."""
    waited = graces(monkeypatch)
    made = slots(tenant)
    action_id = an_action(tenant)
    tenant.call(
        "PATCH",
        f"/api/v2/actions/actions/{action_id}",
        {"secrets": [{"name": "M2M_CLIENT_SECRET", "value": "an earlier release's"}]},
    )
    action_credential.switch({**props(tenant, action_id, made), "grace_ms": 7000}, previous=None)
    assert waited == [8.0]


def test_a_first_switch_waits_when_only_the_deployed_version_holds_a_secret(
    tenant: LocalTenant, deployer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Secrets removed from the draft by hand, not deployed: logins still run the version that
    holds them."""
    waited = graces(monkeypatch)
    made = slots(tenant)
    action_id = an_action(tenant)
    path = f"/api/v2/actions/actions/{action_id}"
    tenant.call("PATCH", path, {"secrets": [{"name": "CLIENT_SECRET", "value": "deployed"}]})
    tenant.deploy(action_id)
    tenant.call("PATCH", path, {"secrets": []})
    assert tenant.call("GET", path)["secrets"] == []
    action_credential.switch({**props(tenant, action_id, made), "grace_ms": 7000}, previous=None)
    assert waited == [8.0]


def test_a_switch_from_a_previous_slot_waits_even_with_no_secret_in_sight(
    tenant: LocalTenant, deployer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update: the previous slot's secret was handed out, whatever the Actions show now."""
    waited = graces(monkeypatch)
    made = slots(tenant)
    action_id = tenant.deploy_action("bare", "exports.onExecutePostLogin = async () => {};")
    action_credential.switch({**props(tenant, action_id, made), "grace_ms": 7000}, previous="b")
    assert waited == [8.0]


def test_a_create_after_a_switch_that_deployed_rotates_the_other_slot(
    tenant: LocalTenant, deployer: dict[str, str]
) -> None:
    """A create retried after a switch deployed its Actions and then failed (or a renamed
    resource): the Actions run slot b's secret, so b must not be rotated before they move."""
    made = slots(tenant)
    action_id = an_action(tenant)
    first = action_credential.switch(props(tenant, action_id, made), previous=None)
    assert first["active_slot"] == "b"
    again = action_credential.switch(props(tenant, action_id, made), previous=None)
    assert again["active_slot"] == "a"
    # An update whose state lags behind what is deployed (the same failure, after an update).
    third = action_credential.switch(props(tenant, action_id, made), previous="b")
    assert third["active_slot"] == "b"


def written(tenant: LocalTenant, action_id: str, slot: str, made: dict[str, Any]) -> None:
    """The draft of ``action_id`` as a switch to ``slot`` writes it (the secret's value is not
    the slot's: only the names matter to what is read back)."""
    client_id = made[slot]["client_id"]
    names = [*action_code.SECRET_NAMES, action_credential.MARKER + client_id]
    tenant.call(
        "PATCH",
        f"/api/v2/actions/actions/{action_id}",
        {"secrets": [{"name": name, "value": slot} for name in names]},
    )


def test_actions_left_on_both_slots_are_deployed_onto_one_before_anything_is_rotated(
    tenant: LocalTenant, deployer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A switch to a that failed between two Actions' deploys: the first runs a, the second
    still b, both drafts hold a. Rotating either would cut one of them: the second is deployed
    from its draft first, then the switch goes from a to b."""
    made = slots(tenant)
    first, second = an_action(tenant), tenant.deploy_action("two", "exports.x = 1;")
    both = {**props(tenant, first, made), "action_ids": [first, second]}
    action_credential.switch(both, previous=None)
    written(tenant, first, "a", made)
    written(tenant, second, "a", made)
    tenant.deploy(first)
    deployed_at_rotation: list[set[str | None]] = []
    rotate = action_credential._rotate

    def observed(api: Any, client_id: str) -> str:
        deployed_at_rotation.append(
            {
                action_credential.slot_named(
                    tenant.call("GET", f"/api/v2/actions/actions/{i}")["deployed_version"],
                    both["slot_clients"],
                )
                for i in (first, second)
            }
        )
        return rotate(api, client_id)

    monkeypatch.setattr(action_credential, "_rotate", observed)
    result = action_credential.switch(both, previous="b")
    assert deployed_at_rotation[0] == {"a"}
    assert result["active_slot"] == "b"


def test_actions_on_both_slots_with_drafts_that_disagree_are_refused(
    tenant: LocalTenant, deployer: dict[str, str]
) -> None:
    made = slots(tenant)
    first, second = an_action(tenant), tenant.deploy_action("two", "exports.x = 1;")
    written(tenant, first, "a", made)
    tenant.deploy(first)
    written(tenant, second, "b", made)
    tenant.deploy(second)
    both = {**props(tenant, first, made), "action_ids": [first, second]}
    with pytest.raises(action_credential.CredentialError, match="deploy every Action"):
        action_credential.switch(both, previous="b")
    # Nothing was rotated: both applications' secrets still work.
    assert works(tenant, made["a"])
    assert works(tenant, made["b"])


def test_secrets_written_by_anyone_else_read_as_drift(
    tenant: LocalTenant, deployer: dict[str, str]
) -> None:
    made = slots(tenant)
    action_id = an_action(tenant)
    written = action_credential.switch(props(tenant, action_id, made), previous=None)
    provider = action_credential.ActionCredentialProvider()
    assert (provider.read("id", written).outs or {})["in_tenant"] is True
    tenant.call(
        "PATCH",
        f"/api/v2/actions/actions/{action_id}",
        {"secrets": [{"name": "CLIENT_SECRET", "value": "pasted by hand"}]},
    )
    refreshed = provider.read("id", written)
    assert (refreshed.outs or {})["in_tenant"] is False
    assert refreshed.inputs is not None
    assert refreshed.inputs["in_tenant"] is False
    # The program declares True: the next `up` switches slots and writes them again.
    assert provider.diff("id", refreshed.inputs, {**refreshed.inputs, "in_tenant": True}).changes


def test_a_secret_the_token_endpoint_does_not_take_yet_is_not_written_yet(
    tenant: LocalTenant, deployer: dict[str, str]
) -> None:
    """Auth0: "New secrets may be delayed up to thirty seconds while rotating"; written at once,
    the Action would hold a secret the token endpoint still refuses."""
    tenant.set_secret_rotation_delay_s(2)
    made = slots(tenant)
    action_id = an_action(tenant)
    started = datetime.now(UTC)
    written = action_credential.switch(props(tenant, action_id, made), previous=None)
    after = tenant.call("GET", f"/api/v2/actions/actions/{action_id}")
    stamp = datetime.fromisoformat(after["secrets"][0]["updated_at"].replace("Z", "+00:00"))
    assert (stamp - started).total_seconds() >= 2
    assert written["active_slot"] == "b"


def test_without_the_deployers_credentials_in_the_environment_it_names_them(
    tenant: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTH0_CLIENT_SECRET", raising=False)
    provider = action_credential.ActionCredentialProvider()
    with pytest.raises(Exception, match="AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET") as raised:
        provider.create(props(tenant, "act", slots(tenant)))
    assert "auth0:clientSecret" in str(raised.value)


def test_a_deployer_that_cannot_read_the_rotated_secret_is_told_which_scope(
    tenant: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    scopes = sorted(set(credentials.DEPLOY) - {"read:client_keys"})
    made = tenant.m2m_client("deployer", scopes)
    monkeypatch.setenv("AUTH0_CLIENT_ID", made["client_id"])
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", made["client_secret"])
    monkeypatch.setenv("SSL_CERT_FILE", tenant.ca_cert)
    action_id = an_action(tenant)
    provider = action_credential.ActionCredentialProvider()
    with pytest.raises(Exception, match="read:client_keys") as raised:
        provider.create(props(tenant, action_id, slots(tenant)))
    assert made["client_secret"] not in str(raised.value)
    # Nothing was written into the Action.
    assert not tenant.call("GET", f"/api/v2/actions/actions/{action_id}")["secrets"]
