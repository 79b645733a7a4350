# Small runtime image: slim Python, pinned runtime dependencies only, no compilers.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, so the layer is cached across source changes.
COPY requirements.lock /app/requirements.lock
RUN pip install --no-compile -r /app/requirements.lock

COPY src /app/src
COPY entrypoint.py /app/entrypoint.py

ENTRYPOINT ["python", "/app/entrypoint.py"]
