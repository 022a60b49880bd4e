"""The REST API's errors: each is a status and a one-line message, never a stack trace."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 500

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        if status is not None:
            self.status = status


class BadRequest(ApiError):
    """A request the API cannot read at all (a body that is not JSON)."""

    status = 400


class Invalid(ApiError):
    status = 422


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class MethodNotAllowed(ApiError):
    """A path the API serves, asked with a method it does not take there; `allow` lists those it does."""

    status = 405

    def __init__(self, message: str, allow: list[str]):
        super().__init__(message, [{"allow": ", ".join(allow)}])
        self.allow = allow


def error_body(message: str, request_id: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "request_id": request_id}
    if details:
        body["details"] = details
    return body
