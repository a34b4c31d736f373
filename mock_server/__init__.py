"""Flask mock of the ML Space Public API v2, backed by :mod:`simulator`."""

from mock_server.app import create_app

__all__ = ["create_app"]
