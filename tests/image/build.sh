#!/usr/bin/env bash
# Build the action's image for the image tests: `bash tests/image/build.sh [TAG]` (default qodo-review:test),
# with docker when its daemon answers, else podman (QODO_CONTAINER_ENGINE chooses). Prints the build time.
#
# --standin: build on a local stand-in for the base image (../shared/tools/container-standin.sh makes one,
# tagged python:3.12-slim, on a machine with no registry). The Dockerfile pins the base by digest, which the
# stand-in cannot have, so the digest is dropped from a copy of the Dockerfile given to the build; the
# image is then NOT the release image (Debian's Python, not 3.12), only its steps and behaviour.
set -euo pipefail
cd "$(dirname "$0")/../.."

standin=0
if [ "${1:-}" = "--standin" ]; then standin=1; shift; fi
tag=${1:-qodo-review:test}
engine=${QODO_CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker; else engine=podman; fi
fi

dockerfile=Dockerfile
args=()
if [ "$standin" = 1 ]; then
  dockerfile=$(mktemp)
  trap 'rm -f "$dockerfile"' EXIT
  # The real base has its interpreter at /usr/local/bin/python (the ENTRYPOINT's path); Debian's is in /usr/bin.
  printf 'FROM python:3.12-slim\nRUN ln -sf /usr/bin/python3 /usr/local/bin/python\n' |
    "$engine" build --pull=never -q -t localhost/qodo-standin-base -f - . >/dev/null
  sed -E 's|^FROM python:3\.12-slim@sha256:[0-9a-f]{64}|FROM localhost/qodo-standin-base|' Dockerfile > "$dockerfile"
  echo "build.sh: stand-in base: the digest pin is replaced for this build (not the release image)" >&2
  args+=(--pull=never)
fi

start=$(date +%s.%N)
"$engine" build "${args[@]}" -f "$dockerfile" -t "$tag" .
end=$(date +%s.%N)
size=$("$engine" image inspect --format '{{.Size}}' "$tag")
awk -v t="$tag" -v e="$engine" -v s="$start" -v f="$end" -v b="$size" \
  'BEGIN { printf "build.sh: %s built with %s in %.1f s; %.0f MB\n", t, e, f - s, b / 1e6 }' >&2
