"""The Management API's scopes this local tenant knows, derived from what it serves: every scope
a route requires (its route table), and those that only widen what a route answers (an area's
``FIELD_SCOPES``, such as ``read:client_keys`` for client secrets).

The API's audience is the tenant's own (``authentication.management_audience``).
"""

from __future__ import annotations

from functools import cache


@cache
def known_scopes() -> tuple[str, ...]:
    """Every scope this local tenant knows; the admin client is granted all of them."""
    from devtools.localtenant.tenant import AREAS  # the areas import this module

    scopes = {scope for area in AREAS for route in area.ROUTES for scope in route.scopes}
    scopes |= {scope for area in AREAS for scope in getattr(area, "FIELD_SCOPES", ())}
    return tuple(sorted(scopes))
