"""Check runs: create one and update it (its output and annotations)."""

from __future__ import annotations

from typing import Any

from .payloads import CheckRun
from .transport import Transport

# OpenAPI `checks/create`: output.summary / output.text "Maximum length: 65535 characters"; GitHub answers
# "Invalid request.\n\nOnly 65535 characters are allowed; 68338 were supplied."
MAX_CHECK_OUTPUT_CHARS = 65535
# OpenAPI `checks/create`: "The Checks API limits the number of annotations to a maximum of 50 per API
# request. To create more than 50 annotations, you have to make multiple requests to the Update a check run".
MAX_ANNOTATIONS_PER_REQUEST = 50


class ChecksAPI(Transport):
    """Create and update check runs on a commit."""

    def create_check_run(
        self,
        head_sha: str,
        name: str,
        *,
        status: str,
        output: dict[str, Any] | None = None,
        conclusion: str | None = None,
    ) -> int:
        payload: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if output is not None:
            payload["output"] = output
        if conclusion is not None:
            payload["conclusion"] = conclusion
        return int(self._json("POST", "check-runs", json=payload, permission="checks: write")["id"])

    def update_check_run(self, check_run_id: int, **fields: Any) -> CheckRun:
        """PATCH a check run; annotations in `output` are appended by GitHub, 50 per request at most."""
        data = self._json("PATCH", f"check-runs/{check_run_id}", json=fields, permission="checks: write")
        return CheckRun(id=int(data.get("id") or check_run_id))
