"""A real S3-compatible server for the tests: moto in server mode, over real HTTP.

``s3_server()`` starts moto's threaded server on a free loopback port, creates a bucket
and yields an ``S3Server``:

- ``url``: the ``STORAGE_URL`` that points Ventanilla's private storage at the bucket;
- ``env``: the environment a subprocess (``manage.py``, a worker, the web server) needs
  for it (``STORAGE_URL`` and the AWS credentials moto accepts);
- ``storages``: a ``STORAGES`` setting for ``override_settings`` in this process (the
  credentials are in its options, since this process's environment has none);
- ``client``: a boto3 client to look at the bucket's objects as they are stored;
- ``stop()``: stops the server, so that a test can see what an unreachable storage does.

moto keeps every bucket in this process's memory, whatever the port: a second server
sees the first one's objects, so each ``s3_server()`` uses a bucket of its own name.
"""

import contextlib
import itertools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "ventanilla-test"
SECRET_ACCESS_KEY = "ventanilla-test-secret"  # noqa: S105 (moto accepts any credentials)
REGION = "us-east-1"

_bucket_numbers = itertools.count(1)


@dataclass
class S3Server:
    bucket: str
    prefix: str
    endpoint_url: str
    client: Any
    _server: ThreadedMotoServer = field(repr=False)
    running: bool = True

    @property
    def url(self) -> str:
        """The STORAGE_URL of the bucket (and prefix) on this server."""
        path = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        return f"s3://{path}?endpoint_url={self.endpoint_url}&region={REGION}"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables for a subprocess that stores its files here."""
        return {
            "STORAGE_URL": self.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    @property
    def storages(self) -> dict:
        """A STORAGES setting whose default storage is this bucket, for override_settings."""
        from django.conf import settings

        from ventanilla.documents.storage import storage_from_url

        default = storage_from_url(self.url)
        default["OPTIONS"] |= {"access_key": ACCESS_KEY_ID, "secret_key": SECRET_ACCESS_KEY}
        return {**settings.STORAGES, "default": default}

    def keys(self) -> list[str]:
        """Every object key in the bucket, sorted."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        """The stored bytes of one object, as they are in the bucket."""
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def empty(self) -> None:
        """Delete every object, so that the next test starts from an empty bucket."""
        for key in self.keys():
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def stop(self) -> None:
        """Stop the server and close its socket: connections are refused from now on."""
        if not self.running:
            return
        self.running = False
        self._server.stop()
        # ThreadedMotoServer.stop() ends the serving loop but leaves the socket listening,
        # where a connection would wait instead of being refused.
        if self._server._server is not None:
            self._server._server.server_close()


@contextlib.contextmanager
def s3_server(*, prefix: str = "private") -> Iterator[S3Server]:
    """Start moto's S3 server on 127.0.0.1 (a free port), create a bucket, yield it."""
    # moto's server logs every request through werkzeug; the tests' output needs none.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 2}),
    )
    bucket = f"ventanilla-test-{os.getpid()}-{next(_bucket_numbers)}"
    handle = S3Server(
        bucket=bucket, prefix=prefix, endpoint_url=endpoint_url, client=client, _server=server
    )
    try:
        client.create_bucket(Bucket=bucket)
        yield handle
    finally:
        if handle.running:
            handle.empty()
            client.delete_bucket(Bucket=bucket)
        handle.stop()
