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


def not_found(what: str, error_code: str) -> Auth0Error:
    return Auth0Error(404, f"The {what} does not exist", error_code)


def conflict(message: str, error_code: str) -> Auth0Error:
    return Auth0Error(409, message, error_code)


def insufficient_scope(scopes: tuple[str, ...]) -> Auth0Error:
    return Auth0Error(
        403, f"Insufficient scope, expected any of: {','.join(scopes)}", "insufficient_scope"
    )
