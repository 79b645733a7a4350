# Small runtime image: slim Python, pinned and hashed runtime dependencies only, no compilers, bytecode
# compiled at build time. Releases ship it prebuilt (RELEASING.md); `image: Dockerfile` builds it on a branch.
#
# The base, by digest: the multi-arch index of python:3.12-slim (tag: 3.12-slim). Dependabot's `docker`
# ecosystem (.github/dependabot.yml) moves this digest when the tag moves. A build with a stand-in base
# (tests/image/build.sh, no registry) replaces the digest with the local tag and says so.

# git's binary alone, for reading a checked-out PR's diff from the workspace (fetch.py runs only its
# built-in `diff` and `cat-file`, which need libc, zlib and pcre2, all in the slim base): about 4 MB,
# where Debian's git package brings perl and curl, about 90 MB.
FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea AS git
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*

FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, so the layer is cached across source changes. Every requirement carries its hashes
# (--require-hashes: a changed file on the index fails the build), transitive ones included (--no-deps:
# nothing unpinned comes along), and only wheels are taken (no compiler here; a platform without a wheel
# fails the build instead of building from source). pip compiles each module's bytecode as it installs:
# without it every run compiled the SDKs again (2.24 s against 1.73 s for a full review, measured).
COPY requirements.lock /app/requirements.lock
# botocore ships the API models of every AWS service (28 MB under botocore/data/<service>/); Bedrock needs none of
# them: the anthropic SDK builds the request and botocore only signs it (SigV4), which reads no model. The
# top-level files (endpoints, partitions, retry and default configuration) stay. bench/README.md has the sizes.
RUN pip install --require-hashes --no-deps --only-binary :all: -r /app/requirements.lock \
 && find "$(python -c 'import botocore, os; print(os.path.dirname(botocore.__file__))')/data" \
      -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +

COPY --from=git /usr/bin/git /usr/local/bin/git
COPY src /app/src
COPY entrypoint.py /app/entrypoint.py
# The image never changes after this: hash-based bytecode that Python does not check against the source.
RUN python -m compileall -q -j 0 --invalidation-mode unchecked-hash /app/src

# No USER: the action runs as root, as GitHub's Docker actions must ("Docker actions must be run by the
# default Docker user (root)", GitHub's Dockerfile support docs). The runner mounts the workspace and
# /github/file_commands owned by its own user (uid 1001 on hosted runners), which another uid in the
# container could not write: the findings file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY would fail.

# -I (isolated): PYTHON* variables (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME...), the user's site-packages and
# the script's directory are ignored, so an earlier step of the job that sets variables through $GITHUB_ENV
# or drops modules in the workspace cannot run its code inside this process. The absolute path, because
# PATH comes from the job too (entrypoint.py puts /app/src on sys.path itself). -I also ignores the ENV
# above, so -B and -u say PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED again.
ENTRYPOINT ["/usr/local/bin/python", "-I", "-B", "-u", "/app/entrypoint.py"]
