"""Training jobs: ``Job(...).submit()``, ``status()``, ``logs()``, ``kill()`` and the module-level
``jobs()``, ``logs(name)``, ``kill(name)``, printing and returning what the 2024 library did."""

from __future__ import annotations

from typing import Any

from client_lib._session import ClientLibError, call, read_text

DEFAULT_REGION = "DGX2-MT"  # "by default jobs run in Christofari.V100"
IN_QUEUE = " in queue. Try later"


class Job:
    """A training job as the notebook describes it; nothing is sent until :meth:`submit`.

    Keyword arguments are ``RunJobRequest`` fields. Obsolete ones (``n_gpus``, ``warm_cache``)
    are passed through, so the server's refusal explains what changed.
    """

    def __init__(
        self,
        base_image: str,
        script: str,
        instance_type: str | None = None,
        region: str = DEFAULT_REGION,
        n_workers: int = 1,
        type: str = "horovod",  # the library's parameter name
        processes_per_worker: int | str | None = None,
        job_desc: str | None = None,
        flags: dict[str, Any] | None = None,
        env_variables: dict[str, Any] | None = None,
        pytorch_use_env: bool | None = None,
        elastic_min_workers: int | str | None = None,
        elastic_max_workers: int | str | None = None,
        elastic_max_restarts: int | None = None,
        checkpoint_dir: str | None = None,
        conda_env: str | None = None,
        **extra: Any,
    ) -> None:
        given = {
            "base_image": base_image,
            "script": script,
            "instance_type": instance_type,
            "region": str(region),
            "type": type,
            "n_workers": n_workers,
            "processes_per_worker": processes_per_worker,
            "job_desc": job_desc,
            "flags": flags,
            "env_variables": env_variables,
            "pytorch_use_env": pytorch_use_env,
            "elastic_min_workers": elastic_min_workers,
            "elastic_max_workers": elastic_max_workers,
            "elastic_max_restarts": elastic_max_restarts,
            "checkpoint_dir": checkpoint_dir,
            "conda_env": conda_env,
            **extra,
        }
        self.params = {k: v for k, v in given.items() if v is not None}
        self.region = str(region)
        self.name: str | None = None

    def submit(self) -> str:
        body = call("POST", "jobs", json=self.params).json()
        self.name = body["job_name"]
        return f'Job "{self.name}" created.'

    def _submitted(self) -> str:
        if self.name is None:
            raise ClientLibError("The job has not been submitted yet: call submit() first")
        return self.name

    def status(self) -> str:
        body = call("GET", f"jobs/{self._submitted()}").json()
        return f"Job status={str(body.get('status', '')).capitalize()}"

    def logs(self) -> None:
        logs(self._submitted(), region=self.region)

    def kill(self) -> str:
        return kill(self._submitted(), region=self.region)

    def __repr__(self) -> str:
        return f"Job(name={self.name!r}, params={self.params!r})"


def jobs(region: str = DEFAULT_REGION) -> None:
    """Print ``<created> : <job name> : <Status>`` for every job of the region, by name."""
    body = call("GET", "jobs", params={"region": str(region)}).json()
    for item in sorted(body.get("jobs", []), key=lambda j: j["job_name"]):
        print(f"{item['created_dt']} : {item['job_name']} : {item['status']}")


def logs(name: str, region: str | None = None) -> None:
    """Print the job's log with timestamps; a queued job prints the platform's quoted notice."""
    params: dict[str, Any] = {"verbose": "true"}
    if region is not None:
        params["region"] = str(region)
    r = call("GET", f"jobs/{name}/logs", params=params, stream=True)
    if r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        r.close()
        raise ClientLibError(body.get("error_message") or str(body))
    text = read_text(r).rstrip("\n")
    if text.startswith("Job ") and text.endswith(IN_QUEUE) and "\n" not in text:
        print(f'"{text}"')
    elif text:
        print(text)


def kill(name: str, region: str | None = None) -> str:
    """Delete the job (pending, running or finished); returns ``Job "<name>" deleted``."""
    params = {"region": str(region)} if region is not None else None
    call("DELETE", f"jobs/{name}", params=params)
    return f'Job "{name}" deleted'
