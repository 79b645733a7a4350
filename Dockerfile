# Small runtime image: slim Python, pinned runtime dependencies only, no compilers.

# git's binary alone, for reading a checked-out PR's diff from the workspace (fetch.py runs only its
# built-in `diff` and `cat-file`, which need libc, zlib and pcre2, all in the slim base): about 4 MB,
# where Debian's git package brings perl and curl, about 90 MB.
FROM python:3.12-slim AS git
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, so the layer is cached across source changes.
COPY requirements.lock /app/requirements.lock
# botocore ships the API models of every AWS service (28 MB under botocore/data/<service>/); Bedrock needs none of
# them: the anthropic SDK builds the request and botocore only signs it (SigV4), which reads no model. The
# top-level files (endpoints, partitions, retry and default configuration) stay. bench/README.md has the sizes.
RUN pip install --no-compile -r /app/requirements.lock \
 && find /usr/local/lib/python3.12/site-packages/botocore/data -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +

COPY --from=git /usr/bin/git /usr/local/bin/git
COPY src /app/src
COPY entrypoint.py /app/entrypoint.py

# -I (isolated): PYTHON* variables (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME...), the user's site-packages and
# the script's directory are ignored, so an earlier step of the job that sets variables through $GITHUB_ENV
# or drops modules in the workspace cannot run its code inside this process. The absolute path, because
# PATH comes from the job too (entrypoint.py puts /app/src on sys.path itself). -I also ignores the ENV
# above, so -B and -u say PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED again.
ENTRYPOINT ["/usr/local/bin/python", "-I", "-B", "-u", "/app/entrypoint.py"]
