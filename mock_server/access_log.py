"""The console's access log: one line per request (method, path, status, milliseconds), as every
development server prints. WSGI middleware that the serve command puts in front of the app, so
the app and its hooks know nothing of it; ``mlspace-sim serve --quiet`` leaves it out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol


class Sink(Protocol):
    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


class _Answer:
    """The app's response body; calls ``done`` once the server has closed it (a streamed log
    follows its job for as long as it runs, so a line is written when the answer really ends)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body, self._done = body, done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


class AccessLog:
    """``app`` with a line written to ``out`` for every request once its answer ends."""

    def __init__(self, app: Any, out: Sink) -> None:
        self.app, self.out = app, out
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> _Answer:
        started = time.perf_counter()
        status = ["-"]

        def capture(code: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *exc_info)

        try:
            body = self.app(environ, capture)
        except BaseException:
            self._line(environ, "500", started)  # the server answers 500 for what escaped
            raise
        return _Answer(body, lambda: self._line(environ, status[0], started))

    def _line(self, environ: dict[str, Any], status: str, started: float) -> None:
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        ms = 1000 * (time.perf_counter() - started)
        text = f"{environ.get('REQUEST_METHOD', '-')} {path}{'?' + query if query else ''} "
        with self._lock:
            self.out.write(f"{text}{status} {ms:.1f} ms\n")
            self.out.flush()
