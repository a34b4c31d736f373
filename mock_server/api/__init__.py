"""One module per API area: the handlers that ``mock_server.operations`` routes to."""
