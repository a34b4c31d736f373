# mlspace-sim: the ML Space Public API v2 mock on a simulated platform.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY simulator ./simulator
COPY mock_server ./mock_server
COPY mlspace_sim ./mlspace_sim
COPY scenarios ./scenarios
COPY client_lib ./client_lib
# the same command as CI's fresh-install check (tests/packaging/fresh_install.py): a wheel, no extras
RUN pip wheel --no-deps --wheel-dir dist . && pip install dist/*.whl
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/public/v2/openapi.json', timeout=2)"
# Bound beyond loopback, so the admin API (/_mock/) needs a token: pass one with
# -e MLSPACE_SIM_ADMIN_TOKEN=...; without it the server makes one up and prints it in its log.
CMD ["mlspace-sim", "serve", "--host", "0.0.0.0", "--port", "8080"]
