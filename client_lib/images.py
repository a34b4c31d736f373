"""Custom images: ``ImageBuildJob(from_image, requirements_file)`` builds ``FROM from_image`` plus
``pip install -r requirements.txt`` into the workspace's registry."""

from __future__ import annotations

import posixpath

from client_lib._session import ClientLibError, call, nfs_path, read_text


class ImageBuildJob:
    """One image build; ``new_image`` is the image name to use in ``Job(base_image=...)``."""

    def __init__(self, from_image: str, requirements_file: str) -> None:
        self.from_image = from_image
        self.requirements_file = requirements_file
        self.name: str | None = None
        self.new_image: str | None = None

    def submit(self) -> str:
        path = nfs_path(self.requirements_file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ClientLibError(
                f"Can't read requirements_file {self.requirements_file!r}: {exc.strerror}"
            ) from None
        body = call(
            "POST",
            "build-image/jobs",
            data={"from_image": self.from_image},
            files={"requirements": (posixpath.basename(self.requirements_file), content)},
        ).json()
        self.name, self.new_image = body["job_name"], body["destination"]
        receipt = {"image": self.new_image, "name": self.name, "status": "ok"}
        return f'ImageBuildJob "{receipt}" created'

    def _submitted(self) -> str:
        if self.name is None:
            raise ClientLibError("The build has not been submitted yet: call submit() first")
        return self.name

    def status(self) -> str:
        body = call("GET", f"build-image/jobs/{self._submitted()}").json()
        return f"ImageBuildJob status={body.get('status', '')}"

    def logs(self) -> None:
        """Print kaniko's output so far (or the platform's "not ready yet" notice)."""
        text = read_text(call("GET", f"build-image/jobs/{self._submitted()}/logs", stream=True))
        if text.strip():
            print(text.rstrip("\n"))
