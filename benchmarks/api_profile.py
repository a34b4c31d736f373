"""Where one API request's time goes: submit+status pairs through the app under cProfile.

The app runs in-process (Flask test client, no server, no network), so the figures are the
app's own: routing, the request hooks (bounds, auth, validation, persistence, the one-instant
hook), the handlers and the journal. Profiled times inflate code made of many small calls;
compare stages within one run, not with wall figures.

    python benchmarks/api_profile.py [--pairs 2000] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re

from api import JOB, our_app  # the pairs api.py sends, profiled here in-process

from mock_server.testing import Credentials

# (stage, functions whose cumulative time it is), in the order a request passes them
STAGES = (
    ("Flask request context", (r"flask/ctx\.py:\d+\((push|pop)\)", r"\(request_context\)")),
    ("identify (request id, operation)", (r"mock_server/app\.py:\d+\(identify\)",)),
    (
        "bounds (headers, body size, inputs)",
        (r"\(check_headers\)", r"\(guard\)", r"\(check_inputs\)"),
    ),
    ("rate limits (none configured here)", (r"mock_server/ratelimit\.py:\d+\(rate_limit\)",)),
    ("auth (token, key pair)", (r"mock_server/app\.py:\d+\(authenticate\)",)),
    ("validation (query, body)", (r"\(validate_query\)", r"\(validate_body\)")),
    ("persistence hooks", (r"mock_server/persistence\.py:\d+\((before|after|teardown)\)",)),
    ("one instant (locks, engine catch-up)", (r"\((hold|release)_instant\)",)),
    ("handlers (engine, JSON)", (r"flask/app\.py:\d+\(dispatch_request\)",)),
    ("journal and state file", (r"mock_server/app\.py:\d+\(record\)",)),
)


def pairs(n: int) -> cProfile.Profile:
    """``n`` submit+status pairs (after 100 unprofiled ones), profiled."""
    app, token = our_app()
    client, creds = app.test_client(), Credentials()
    headers = {
        "authorization": token,
        "x-workspace-id": creds.workspace_id,
        "x-api-key": creds.api_key,
    }

    def pair() -> None:
        name = client.post("/public/v2/jobs", json=JOB, headers=headers).get_json()["job_name"]
        assert client.get(f"/public/v2/jobs/{name}", headers=headers).status_code == 200

    for _ in range(100):
        pair()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        pair()
    profile.disable()
    return profile


def cumulative(stats: pstats.Stats, patterns: tuple[str, ...]) -> float:
    """Seconds spent in the functions matching any pattern (cumulative, so nested ones count
    once only if the patterns do not nest)."""
    found = re.compile("|".join(patterns))
    return sum(
        row[3]
        for (file, line, name), row in stats.stats.items()  # type: ignore[attr-defined]
        if found.search(f"{file}:{line}({name})")
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--top", type=int, default=0, help="also print the N costliest functions")
    args = p.parse_args()
    stats = pstats.Stats(pairs(args.pairs))
    requests = 2 * args.pairs
    total = cumulative(stats, (r"mock_server/app\.py:\d+\(__call__\)",))
    print(f"app total {total / requests * 1e3:.3f} ms/request (profiled), {requests} requests")
    for stage, patterns in STAGES:
        spent = cumulative(stats, patterns)
        print(f"  {stage:40s} {spent / requests * 1e3:6.3f} ms  {spent / total:6.1%}")
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
