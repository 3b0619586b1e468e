# The user-code image: seek-sync's code location (`dagster api grpc -m seek_sync.definitions`, the
# Helm chart's code server and every run's pod) and `seek-sync receiver serve`, one image.
# Installs the package without the dev extra; EXTRAS picks the optional ones from pyproject.toml:
# `server` (PostgreSQL, S3, dagster-postgres, dagster-aws) and `cluster` (dagster-k8s,
# dagster-celery), each dagster library at the release of the pinned dagster core.
#
#   docker build -t registry.example.com/seek-sync:0.1.0 .
#   docker build --build-arg EXTRAS=server -t seek-sync:server .
#
# Not built on the project's machines (no Docker daemon there): see docs/deploying.md.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ARG EXTRAS=server,cluster
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY seek_sync ./seek_sync
# A virtualenv copied whole into the runtime stage: no compiler or build cache is shipped.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install ".[${EXTRAS}]"

FROM python:${PYTHON_VERSION}-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    SEEK_SYNC_HOME=/tmp/seek-sync
COPY --from=build /opt/venv /opt/venv
# An unprivileged user (the receiver's manifest runs as 10001 with a read-only root filesystem).
RUN groupadd --gid 10001 seek && useradd --uid 10001 --gid seek --no-create-home seek \
    && mkdir -p /opt/dagster/dagster_home /opt/dagster/app \
    && chown -R seek:seek /opt/dagster
WORKDIR /opt/dagster/app
USER 10001
EXPOSE 3030 8701
# The Helm chart replaces this with `dagster api grpc` and its dagsterApiGrpcArgs; the K8s run
# launcher runs `dagster api execute_run` in the same image.
CMD ["dagster", "api", "grpc", "--host", "0.0.0.0", "--port", "3030", "--module-name", "seek_sync.definitions"]
