#!/usr/bin/env bash
# The image tests on the image QODO_IMAGE names (a tag or name@sha256:digest), with the engine
# QODO_CONTAINER_ENGINE names (default: docker when its daemon answers, else podman). A run in which any
# image test was skipped fails: a green job must mean the image was tested.
#   bash tests/image/build.sh [--standin] && QODO_IMAGE=qodo-review:test bash tests/image/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${QODO_IMAGE:-}" ]; then
  echo "run.sh: QODO_IMAGE names no image; build one with tests/image/build.sh" >&2
  exit 2
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
python -m pytest tests/image -n 0 -rs "$@" | tee "$report"  # -n 0: one container at a time
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 0 ] && grep -Eq '[0-9]+ skipped' "$report"; then
  echo "run.sh: image tests were skipped; that is a failure here" >&2
  exit 1
fi
exit "$rc"
