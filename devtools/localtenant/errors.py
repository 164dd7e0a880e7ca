"""Auth0's error shapes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class Auth0Error(Exception):
    """A Management API error: ``{"statusCode", "error", "message", "errorCode"}``."""

    def __init__(self, status: int, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "statusCode": self.status,
            "error": HTTPStatus(self.status).phrase,
            "message": self.message,
        }
        if self.error_code:
            body["errorCode"] = self.error_code
        return body


class OAuthError(Auth0Error):
    """An Authentication API error: ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(status, description, error)

    def body(self) -> dict[str, Any]:
        return {"error": self.error_code, "error_description": self.message}


def bad_request(message: str, error_code: str = "invalid_body") -> Auth0Error:
    return Auth0Error(400, f"Payload validation error: {message}", error_code)


NOT_FOUND: dict[str, tuple[str, str | None]] = {
    # Recorded: each is a real tenant's answer in terraform-provider-auth0's (TF) or go-auth0's
    # (GO) recordings, test/data/recordings/<name>.yaml of their Go modules.
    # TF TestAccDataSourceClientNonexistentID
    "client": ("The client does not exist", "inexistent_client"),
    # GO TestOrganizationManager_ClientGrantsWithOrg
    "client grant": ("The grant does not exist.", "inexistent_client_grant"),
    # GO TestConnectionManager_Delete
    "connection": ("The connection does not exist", "inexistent_connection"),
    # GO TestOrganizationManager_Delete
    "organization": ("No organization found by that id or name", None),
    # GO TestOrganizationManager_DeleteConnection
    "organization connection": ("No connection found by that id", None),
    # GO TestOrganizationManager_DeleteDiscoveryDomain
    "discovery domain": ("No organization domain found by that id", None),
    # GO TestRoleManager_Delete
    "role": ("The role does not exist.", None),
    # GO TestActionManager_Delete
    "action": ("That action does not exist.", None),
    # GO TestUserManager_Delete
    "user": ("The user does not exist.", "inexistent_user"),
    # TF TestAccDataSourceResourceServer
    "resource server": ("The resource server does not exist", "inexistent_resource_server"),
    # Not recorded and not documented: worded as the recorded ones are.
    "credential": ("The credential does not exist", "inexistent_credential"),
    "job": ("The job does not exist", "inexistent_job"),
}
"""Auth0's 404 for each kind of record: message and errorCode (None: Auth0 sends none)."""


def not_found(kind: str) -> Auth0Error:
    """Auth0's 404 for a ``kind`` of record (``NOT_FOUND``) that does not exist."""
    message, error_code = NOT_FOUND[kind]
    return Auth0Error(404, message, error_code)


def invalid_path(message: str, name: str, description: str) -> Auth0Error:
    """Auth0's 400 for a path parameter outside its schema (recorded in terraform-provider-auth0's
    TestAccDataSourceEventStream: "Path validation error: '...' on property id (Unique
    identifier for the event stream).", errorCode invalid_uri); ``description`` is the
    parameter's in the reference, without its final period."""
    return Auth0Error(
        400,
        f"Path validation error: '{message}' on property {name} ({description}).",
        "invalid_uri",
    )


def path_length(value: str, name: str, description: str, least: int, most: int) -> None:
    """``value``, a path parameter, is ``minLength least, maxLength most``."""
    if len(value) < least:
        raise invalid_path(
            f"String is too short ({len(value)} chars), minimum {least}", name, description
        )
    if len(value) > most:
        raise invalid_path(
            f"String is too long ({len(value)} chars), maximum {most}", name, description
        )


def conflict(message: str, error_code: str | None) -> Auth0Error:
    return Auth0Error(409, message, error_code)


def insufficient_scope(scopes: tuple[str, ...]) -> Auth0Error:
    return Auth0Error(
        403, f"Insufficient scope, expected any of: {','.join(scopes)}", "insufficient_scope"
    )
