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


class Invalid(ApiError):
    status = 422


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


def error_body(message: str, request_id: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "request_id": request_id}
    if details:
        body["details"] = details
    return body
