"""``POST s3/credentials`` (not in the spec v2.8.1): the public-API notebook's body."""

from __future__ import annotations

from mock_server.models import OpenBody


class S3Credentials(OpenBody):
    s3_namespace: str
    s3_endpoint: str
    access_key_id: str
    security_key: str
