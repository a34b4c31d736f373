"""One module per API area; each exposes a Blueprint ``bp`` mounted under ``/public/v2``."""

from mock_server.api import (
    build_image,
    data_transfer,
    jobs,
    notebooks,
    openapi_doc,
    resources,
    service_auth,
    tensorboards,
)

BLUEPRINTS = [
    service_auth.bp,
    jobs.bp,
    notebooks.bp,
    tensorboards.bp,
    resources.bp,
    data_transfer.bp,
    build_image.bp,
    openapi_doc.bp,
]
