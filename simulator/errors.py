"""The engine's refusals, in the domain's words: what went wrong, never how to answer it.

The mock server maps each class to the platform's status code and body (``mock_server/errors.py``);
``error_code`` is the platform's own number for the refusal where it has one (None leaves it to
the answering module's default), and ``message`` the text.
"""

from __future__ import annotations


class Rejected(Exception):
    """A request the engine refuses; catch this to catch every refusal."""

    def __init__(
        self,
        message: str,
        *,
        error_code: int | None = None,
        reason: str = "",
        value: object = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.reason = reason or message  # a short cause, so a batch run can count refusals by it
        self.value = str(value)  # what was wrong


class Refused(Rejected):
    """The request is malformed or can never be served (a wrong value, a size that never fits)."""


class NotFound(Rejected):
    """The request names something that does not exist (or is not the caller's to see)."""


class Conflict(Rejected):
    """The request is valid but the entity's current state forbids it (already down, deleting)."""


class OverQuota(Refused):
    """The workspace's GPU limit leaves too few GPUs free: refused before anything is created.
    ``free`` is how many GPUs the limit still leaves; the message is the platform's reason."""

    def __init__(self, free: int) -> None:
        super().__init__(f"WORKSPACE_GPU_LIMIT_REACHED_ONLY_{free}_FREE", error_code=1)
        self.free = free
