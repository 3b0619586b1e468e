"""The backend fixture itself: the server backend is a private database and bucket, reachable."""

from __future__ import annotations

import boto3
import psycopg

from seek_sync.settings import BlobFields, load
from tests.backends import Backend


def test_each_backend_is_chosen_by_settings_alone(backend: Backend) -> None:
    settings = load(BlobFields, **backend.overrides)
    assert settings.home == backend.home
    if not backend.is_server:
        assert settings.database_url is None
        return
    assert settings.database_url is not None
    url = settings.database_url.get_secret_value().replace("+psycopg", "")
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT current_database()").fetchone()[0] in url  # type: ignore[index]
    bucket = settings.blob_url.removeprefix("s3://").split("/")[0]
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
