"""The route table's types, and Auth0's list pagination."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devtools.localtenant.errors import Auth0Error
from devtools.localtenant.route_names import RouteName

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

Response = tuple[int, Any]
Handler = Callable[["Tenant", "Request"], Response]


@dataclass(frozen=True)
class Request:
    """One HTTP request, already parsed: what a handler may look at."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    """The access token's scopes (Management API routes)."""
    subject: str | None = None
    """The client id the access token was issued to."""

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() == "true"

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise Auth0Error(
                400, "Payload validation error: 'Expected type object'.", "invalid_body"
            )
        return self.body


@dataclass(frozen=True)
class Route:
    """``name`` counts calls and selects faults; ``scopes`` are Auth0's (any of them)."""

    name: RouteName
    method: str
    pattern: re.Pattern[str]
    scopes: tuple[str, ...]
    handler: Handler
    management: bool = True
    """False for the Authentication API, which takes no bearer token."""

    @property
    def example_path(self) -> str:
        """A path this route answers, its parameters filled in (``/api/v2/clients/id-1``)."""
        return re.sub(
            r"\(\?P<(\w+)>(?:\(\?![^()]*\))?\[\^/\]\+\)", r"\1-1", self.pattern.pattern
        ).strip("^$")


def route(
    name: RouteName,
    method: str,
    template: str,
    scopes: tuple[str, ...] | str,
    handler: Handler,
    not_last: tuple[str, ...] = (),
) -> Route:
    """``/api/v2/clients/{id}`` -> a route whose handler gets ``params["id"]``; ``not_last``:
    words the last parameter is never, being endpoints of their own (``/organizations/search``
    is not the organization whose id is "search")."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    if not_last:
        words = "|".join(f"{re.escape(word)}$" for word in not_last)
        head, _, tail = regex.rpartition("[^/]+)")
        regex = f"{head}(?!{words})[^/]+){tail}"
    if isinstance(scopes, str):
        scopes = (scopes,)
    return Route(name, method, re.compile(f"^{regex}$"), scopes, handler)


def filtered(records: Any, request: Request, *keys: str) -> list[Any]:
    """The records whose ``keys`` equal the query's, for those the query names (Auth0's list
    filters, e.g. ``?audience=`` on client grants or ``?name=`` on connections)."""
    wanted = {key: request.query[key] for key in keys if key in request.query}
    return [record for record in records if all(record.get(k) == v for k, v in wanted.items())]


def paginate(
    items: list[Any],
    request: Request,
    key: str,
    take_max: int = 100,
    *,
    next_after_any_page: bool = False,
) -> Any:
    """Auth0's list shapes: a bare array; ``include_totals`` adds start/limit/total; ``take``
    (checkpoint pagination, 1 to ``take_max``) pages with ``from`` and ``next``.

    Recorded (go-auth0's and terraform-provider-auth0's cassettes): a page with fewer than
    ``take`` results has no ``next`` (organizations, connections, client grants, a role's
    users, discovery domains), while an organization's members hand one out after any page
    that had results (``next_after_any_page``), so their last page is an empty one."""
    if "take" in request.query:
        take = bounded(request.query["take"], "take", take_max)
        start = _checkpoint(request.query.get("from"))
        page = items[start : start + take]
        body: dict[str, Any] = {key: page}
        if len(page) == take or (next_after_any_page and page):
            body["next"] = base64.b64encode(f"offset:{start + len(page)}".encode()).decode()
        return body
    per_page = bounded(request.query.get("per_page", "50"), "per_page", 100)
    page_number = int(request.query.get("page") or 0)
    start = page_number * per_page
    page = items[start : start + per_page]
    if request.flag("include_totals"):
        return {key: page, "start": start, "limit": per_page, "total": len(items)}
    return page


def _checkpoint(token: str | None) -> int:
    """The offset an opaque ``from`` checkpoint stands for."""
    if not token:
        return 0
    try:
        kind, _, offset = base64.b64decode(token, validate=True).decode().partition(":")
        if kind == "offset" and offset.isdigit():
            return int(offset)
    except ValueError:
        pass
    raise Auth0Error(
        400, "Query validation error: 'from' is not a valid checkpoint", "invalid_query_string"
    )


def bounded(text: str, name: str, most: int) -> int:
    """A query's integer from 1 to ``most``, or Auth0's 400 invalid_query_string."""
    if not text.isdigit() or not 0 < int(text) <= most:
        raise Auth0Error(
            400,
            f"Query validation error: '{name}' must be an integer between 1 and {most}",
            "invalid_query_string",
        )
    return int(text)
