"""The unproven domains said in a preview or deploy: the first ten by organization and domain,
each with its record, then one line counting the rest; and ``gather``, which keeps the order of
thousands of outputs."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest

from auth0_org_assignment import component
from auth0_org_assignment.component import UNPROVEN_SHOWN, Unproven, _say_unproven, _unproven


def test_the_first_ten_are_named_with_their_records_then_the_rest_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: said.append(message))
    answers: list[Unproven] = [
        Unproven(f"org-{n:02d}", f"d{n}.com", f"_h.d{n}.com", f"txt-{n}")
        for n in reversed(range(UNPROVEN_SHOWN + 3))
    ]
    _say_unproven(answers)
    assert len(said) == UNPROVEN_SHOWN + 1
    assert all(f"organization 'org-{n:02d}': d{n}.com" in said[n] for n in range(UNPROVEN_SHOWN))
    assert '"txt-0" at _h.d0.com' in said[0]
    assert said[-1].startswith("auth0-org-assignment: 3 more email domains admit nobody")
    said.clear()
    _say_unproven(answers[-UNPROVEN_SHOWN:])
    assert len(said) == UNPROVEN_SHOWN
    assert not any("more email domains" in line for line in said)


def record(organization: str, domain: str, host: Any = "h", txt: Any = "t") -> dict[str, Any]:
    return {
        "organization": organization,
        "domain": domain,
        "verification_host": host,
        "verification_txt": txt,
    }


def test_a_domain_is_unproven_only_when_its_record_is_known_and_not_found() -> None:
    acme, beta = record("acme", "acme.com"), record("beta", "acme.com", "h2", "t2")
    assert _unproven([{"acme": ["acme.com"], "beta": []}, [acme, beta]]) == [
        Unproven("beta", "acme.com", "h2", "t2")
    ]
    assert _unproven([{"acme": [], "beta": ["acme.com"]}, [acme, beta]]) == [
        Unproven("acme", "acme.com", "h", "t")
    ]
    # A preview of a new discovery domain: its record is not known yet.
    assert _unproven([{"acme": []}, [record("acme", "acme.com", None, None)]]) == []
    # Nor is anything while the proof's answer is not (a new proof, in a preview).
    assert _unproven([None, [acme]]) == []


def test_gather_keeps_the_order_and_the_values_as_they_are() -> None:
    values: list[Any] = [*range(1000), {"a": [1, 2]}, [3, {"b": 4}]]

    async def gathered() -> Any:
        output = component.gather([pulumi.Output.from_input(v) for v in values])
        return await output.future(), await output.is_known()

    assert asyncio.run(gathered()) == (values, True)


def test_gather_is_unknown_when_one_output_is() -> None:
    async def gathered() -> Any:
        unknown = pulumi.Output(set(), _value(None), _value(False))
        output = component.gather([pulumi.Output.from_input(1), unknown])
        return await output.is_known(), await output.apply(lambda _: "ran").future()

    assert asyncio.run(gathered()) == (False, None)


def test_gather_gives_an_apply_that_runs_with_unknowns_the_known_values() -> None:
    async def gathered() -> Any:
        unknown = pulumi.Output(set(), _value(None), _value(False))
        output = component.gather([unknown, pulumi.Output.from_input("s")])
        return await output.apply(lambda values: values, run_with_unknowns=True).future(
            with_unknowns=True
        )

    assert asyncio.run(gathered()) == [pulumi.output.UNKNOWN, "s"]


async def _value(value: Any) -> Any:
    return value
