"""The one exception the engine raises for a request the platform would refuse."""

from __future__ import annotations


class Rejected(Exception):
    """A request refused at submission, with the platform-style code and message.

    ``http_status`` is what the mock server answers; ``error_code`` and ``message`` go into the
    platform's ``{"error_code", "error_message"}`` body. ``reason`` (a short phrase, the message
    by default) and ``value`` (what was wrong) let a batch run count refusals by cause.
    """

    def __init__(
        self,
        message: str,
        *,
        error_code: int = 400,
        http_status: int = 400,
        reason: str = "",
        value: object = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.http_status = http_status
        self.reason = reason or message
        self.value = str(value)
