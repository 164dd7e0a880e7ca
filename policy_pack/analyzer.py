"""Serving the policies to the Pulumi engine, and the one thing ``pulumi_policy`` leaves out.

``pulumi_policy`` (1.21.0) hands a resource validation its inputs with every secret unwrapped:
its ``Analyze`` deserializes them without the secret markers the engine sends (it keeps them
only for remediations), and no public API tells a policy whether an input is secret
(pulumi/pulumi-policy#241). The rule on Action secrets needs exactly that, so the analyzer here
is ``pulumi_policy``'s own, with ``Analyze`` first noting which top-level inputs arrived secret;
:func:`secret_inputs` reads that note while the same resource is validated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi_policy
from google.protobuf import json_format
from pulumi_policy import policy as _sdk
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

_analyzing = threading.local()


def secret_inputs() -> frozenset[str]:
    """The names of the inputs (camelCase, top level) that reached the resource being validated
    as secrets. Known only inside a resource validation run by :func:`serve`'s analyzer."""
    names: frozenset[str] | None = getattr(_analyzing, "secret_inputs", None)
    if names is None:
        raise RuntimeError("secret_inputs() is known only while the pack's analyzer validates")
    return names


def secret_keys(properties: Mapping[str, Any]) -> frozenset[str]:
    """The top-level keys of serialized resource properties whose value is a secret."""
    return frozenset(
        key
        for key, value in properties.items()
        if isinstance(value, Mapping) and value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG
    )


class SecretNotingAnalyzer(_sdk._PolicyAnalyzerServicer):
    """``pulumi_policy``'s analyzer, noting which inputs arrive secret before it validates."""

    def Analyze(self, request: Any, context: Any) -> Any:
        # pulumi_policy runs each validation synchronously on the thread serving the request.
        _analyzing.secret_inputs = secret_keys(json_format.MessageToDict(request.properties))
        try:
            return super().Analyze(request, context)  # type: ignore[no-untyped-call]
        finally:
            _analyzing.secret_inputs = None


def serve(name: str, policies: Iterable[pulumi_policy.Policy]) -> None:
    """Serve the pack until the engine stops it (``PolicyPack`` prints its port and blocks)."""
    # PolicyPack builds its analyzer from this module attribute. tests/test_policy_pack.py runs
    # the pinned pulumi-policy through it, so a release that moves it fails there.
    _sdk._PolicyAnalyzerServicer = SecretNotingAnalyzer  # type: ignore[misc]
    pulumi_policy.PolicyPack(name=name, policies=list(policies))
