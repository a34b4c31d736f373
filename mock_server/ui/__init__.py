"""The web console at ``/_mock/ui``: one page, its static files, and the JSON it polls."""

from mock_server.ui.views import bp

__all__ = ["bp"]
