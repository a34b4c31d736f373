"""What-if reports the console can open: ``report.html`` files under the ``--reports`` folder.

``mlspace-sim whatif --out DIR`` writes ``DIR/report.html``; the console lists that file in the
folder itself and in its subfolders (one run per subfolder), and serves only files that resolve
inside the folder, so ``..``, absolute paths and symlinks leading out of it are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPORT_FILE = "report.html"


def list_reports(root: Path) -> list[dict[str, Any]]:
    """Every report in ``root`` and its direct subfolders, newest first."""
    found = [root / REPORT_FILE, *sorted(root.glob(f"*/{REPORT_FILE}"))]
    reports = [
        {
            "name": path.parent.name if path.parent != root else root.name,
            "path": path.relative_to(root).as_posix(),
            "modified_epoch": path.stat().st_mtime,
        }
        for path in found
        if path.is_file() and inside(root, path)
    ]
    return sorted(reports, key=lambda r: r["modified_epoch"], reverse=True)


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, links resolved, is ``root`` or below it."""
    return path.resolve().is_relative_to(root.resolve())


def report_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names under ``root``, or None if it is missing or outside."""
    if not relative or relative.startswith("/") or "\\" in relative or "\x00" in relative:
        return None
    path = root / relative
    if not inside(root, path) or not path.is_file():
        return None
    return path
