"""Release pins (RELEASING.md): point action.yml at a pushed image by digest, or the README's workflows at a
release commit by SHA.

    python .github/release/pin.py action ghcr.io/owner/qodo-review@sha256:<64 hex>
    python .github/release/pin.py readme <40-hex release commit> vX.Y.Z

Each rewrites the file in place and fails, naming what it expected, when the input or the file is not what a
release expects (a tag instead of a digest, no `image: Dockerfile` line, no workflow to pin): a release commit
never carries a half-made pin.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE = re.compile(r"ghcr\.io/[a-z0-9._-]+/[a-z0-9._/-]+@sha256:[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}")
VERSION = re.compile(r"v\d+\.\d+\.\d+")
# The one line the branch's action.yml has: the image is built from the Dockerfile at each job.
IMAGE_LINE = re.compile(r"^  image: Dockerfile$", re.M)
# `uses: <owner>/qodo-review@<ref> # <comment>` in the README's workflows (the action and the reusable one).
README_USES = re.compile(r"(uses: <owner>/qodo-review(?:/\.github/workflows/[\w.-]+)?@)[^\s#]+(?: # [^\n]*)?")


class PinError(Exception):
    """The input or the file is not what a release expects."""


def pin_action(text: str, image: str) -> str:
    if not IMAGE.fullmatch(image):
        raise PinError(f"image {image!r} is not ghcr.io/<owner>/<name>@sha256:<64 hex>: pin the pushed digest")
    if len(IMAGE_LINE.findall(text)) != 1:
        raise PinError("action.yml has no single `  image: Dockerfile` line under runs: is it already pinned?")
    return IMAGE_LINE.sub(f"  image: docker://{image}", text)


def pin_readme(text: str, commit: str, version: str) -> str:
    if not COMMIT.fullmatch(commit):
        raise PinError(f"commit {commit!r} is not a full 40-hex commit SHA")
    if not VERSION.fullmatch(version):
        raise PinError(f"version {version!r} is not vX.Y.Z")
    pinned, count = README_USES.subn(lambda m: f"{m.group(1)}{commit} # {version}", text)
    if count == 0:
        raise PinError("README.md has no `uses: <owner>/qodo-review@...` line to pin")
    return pinned


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 2 and argv[0] == "action":
            path = ROOT / "action.yml"
            path.write_text(pin_action(path.read_text("utf-8"), argv[1]), encoding="utf-8")
        elif len(argv) == 3 and argv[0] == "readme":
            path = ROOT / "README.md"
            path.write_text(pin_readme(path.read_text("utf-8"), argv[1], argv[2]), encoding="utf-8")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except PinError as error:
        print(f"pin.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
