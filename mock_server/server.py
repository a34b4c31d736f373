"""Running the app on a production WSGI server (waitress), in the foreground or a thread.

waitress speaks plain HTTP only. For https (the SDK retries only over https) a small TLS front
accepts connections, completes the handshake in a thread per connection and relays bytes to
waitress listening on a private Unix socket, so no plain-HTTP port is opened. When waitress closes
a connection (a dropped-connection fault, an idle timeout) the front closes the TLS one, and the
client sees the same end of stream as over plain HTTP.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import select
import shutil
import socket
import ssl
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from mock_server.access_log import AccessLog, Sink
from mock_server.log_follow import follow_slots, stop_all
from mock_server.security import refuse_open_admin

THREADS = 16  # for every request but log follows, which get threads of their own on top
CONNECTION_LIMIT = 100  # waitress's own default (plus a connection per follow slot)
HANDSHAKE_TIMEOUT_S = 10.0
RELAY_CHUNK = 65536
ACCEPT_POLL_S = 0.2
# a request still running after this is abandoned to its daemon thread; on two loaded cores a
# request in hand took over 1 s to finish (tests/reliability/test_server_stop.py saw EBADF)
STOP_WORKERS_S = 5.0
STOP_LOOP_S = 5.0


def _waitress(app: Any, threads: int, access_log: Sink | None = None, **where: Any) -> Any:
    # the app answers oversized bodies with a JSON 413; waitress only stops absurd ones (its
    # default buffers up to 1 GiB) with its own plain-text 413
    limit = app.config.get("MAX_CONTENT_LENGTH") if hasattr(app, "config") else None
    extra = {"max_request_body_size": 4 * limit} if limit else {}
    follows = follow_slots(app)
    return create_server(
        app if access_log is None else AccessLog(app, access_log),
        threads=threads + follows,
        ident="nginx",
        clear_untrusted_proxy_headers=True,
        connection_limit=CONNECTION_LIMIT + follows,
        **extra,
        **where,
    )


def _close_waitress(server: Any) -> None:
    """Stop waitress, open connections included: its own ``close`` shuts only the listener, and
    a client's keep-alive connection then holds its loop until the channel times out.

    Workers go first: each finishes the request in hand, and none is left to wake the loop
    through its trigger once that is closed (a worker that did got ``EBADF``, or wrote into
    whatever file reused the descriptor). Then the channels, the listener and the trigger are
    closed from the loop's own thread, which then finds nothing left to serve. The wake-up that
    asks for it may find the trigger already closed: another thread's wake-up ran the request."""
    server.task_dispatcher.shutdown(timeout=STOP_WORKERS_S)
    closed = threading.Event()

    def close_all() -> None:
        wasyncore.close_all(server._map)
        closed.set()

    try:
        server.trigger.pull_trigger(close_all)
    except OSError as exc:
        if exc.errno != errno.EBADF:
            raise
    closed.wait(STOP_LOOP_S)


def tls_context(cert: str | Path, key: str | Path) -> ssl.SSLContext:
    """A server context (TLS 1.2+) for a PEM certificate chain and its private key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context


def self_signed_pair(directory: str | Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` for localhost, 127.0.0.1, ::1 and ``host`` (valid 30
    days) into ``directory``; clients can trust ``cert.pem`` through ``REQUESTS_CA_BUNDLE``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    ips = {"127.0.0.1", "::1"}
    try:
        ipaddress.ip_address(host)
        ips.add(host)
    except ValueError:
        names.append(x509.DNSName(host))
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in sorted(ips)]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlspace-sim")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out / "cert.pem", out / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _relay(tls: ssl.SSLSocket, plain: socket.socket) -> None:
    """Copy bytes both ways until either side ends (one thread: an SSL object is not safe to
    read and write from two threads at once)."""
    both = [tls, plain]
    while True:
        ready = [tls] if tls.pending() else select.select(both, [], [])[0]
        for src in ready:
            data = src.recv(RELAY_CHUNK)
            if not data:
                return
            (plain if src is tls else tls).sendall(data)


class TLSServer:
    """waitress on a private Unix socket behind a TLS front on ``host:port``."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        threads: int,
        context: ssl.SSLContext,
        access_log: Sink | None = None,
    ) -> None:
        self._dir = tempfile.mkdtemp(prefix="mlspace-sim-")
        self._unix = os.path.join(self._dir, "http.sock")
        self.backend = _waitress(
            app,
            threads,
            access_log,
            unix_socket=self._unix,
            unix_socket_perms="600",
            url_scheme="https",
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family)
        self.effective_port: int = self._listener.getsockname()[1]
        self._context = context
        self._slots = threading.BoundedSemaphore(CONNECTION_LIMIT + follow_slots(app))
        self._closed = threading.Event()

    def run(self) -> None:
        """Serve until :meth:`close` (waitress in a thread, accepting in this one)."""
        threading.Thread(target=self.backend.run, name="mlspace-sim-http", daemon=True).start()
        while not self._closed.is_set():
            try:
                if not select.select([self._listener], [], [], ACCEPT_POLL_S)[0]:
                    continue
                conn, _ = self._listener.accept()
            except OSError:
                if self._closed.is_set():
                    return
                raise
            if not self._slots.acquire(blocking=False):
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        tls: ssl.SSLSocket | None = None
        plain = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # no Nagle delay on the relayed answers (waitress sets the same on its own sockets):
            # without it each small write of a keep-alive exchange waits for the peer's delayed ACK
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(HANDSHAKE_TIMEOUT_S)
            tls = self._context.wrap_socket(conn, server_side=True)
            tls.settimeout(None)
            plain.connect(self._unix)
            _relay(tls, plain)
        except OSError:  # a failed handshake or a peer gone mid-stream ends only this connection
            pass
        finally:
            plain.close()
            (tls or conn).close()
            self._slots.release()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        _close_waitress(self.backend)
        shutil.rmtree(self._dir, ignore_errors=True)


def make_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = THREADS,
    tls: ssl.SSLContext | None = None,
    access_log: Sink | None = None,
) -> Any:
    """A waitress server (it flushes every chunk at once, so log lines stream live), behind a TLS
    front when ``tls`` is given; ``port=0`` picks a free port (``server.effective_port``); with
    ``access_log`` a line per request is written there. ValueError, before anything binds, when
    the admin API would be open beyond loopback."""
    if "mlspace_sim" in getattr(app, "extensions", {}):
        refuse_open_admin(app.extensions["mlspace_sim"].settings, host)
    if tls is not None:
        return TLSServer(app, host, port, threads, tls, access_log)
    return _waitress(app, threads, access_log, host=host, port=port)


class BackgroundServer:
    """A server running in a daemon thread until :meth:`stop`."""

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.app = app
        self.server = make_server(app, host, port, tls=tls)
        self.host = host
        self.port: int = self.server.effective_port
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self.server.run, name="mlspace-sim", daemon=True)

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        stop_all(self.app)  # follows end now instead of holding their threads past the stop
        if isinstance(self.server, TLSServer):
            self.server.close()
        else:
            _close_waitress(self.server)
        self._thread.join(timeout=5)
