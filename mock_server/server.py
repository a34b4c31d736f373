"""Running the app on a production WSGI server (waitress), in the foreground or a thread."""

from __future__ import annotations

import threading
from typing import Any

from waitress.server import create_server

THREADS = 16  # log streams hold a thread each while they follow a running job


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8080, threads: int = THREADS) -> Any:
    """A waitress server (it flushes every chunk at once, so log lines stream live);
    ``port=0`` picks a free port (read it back from ``server.effective_port``)."""
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="nginx",
        clear_untrusted_proxy_headers=True,
    )


class BackgroundServer:
    """A server running in a daemon thread until :meth:`stop`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = make_server(app, host, port)
        self.host = host
        self.port: int = self.server.effective_port
        self._thread = threading.Thread(target=self.server.run, name="mlspace-sim", daemon=True)

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.close()
        self._thread.join(timeout=5)
