"""A real S3-compatible server for tests: moto's, in a thread of the test process, on 127.0.0.1 and a free
port. Clients find it the way users' runs find theirs: AWS_ENDPOINT_URL and the usual credential variables."""

from __future__ import annotations

import itertools
import os

from redis_server import free_port

REGION = "us-east-1"
_buckets = itertools.count()


class S3Server:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self) -> "S3Server":
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def env(self) -> dict[str, str]:
        """What a client (this process or a CLI run) needs to reach the server; the keys are moto's fakes."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }

    def new_bucket(self) -> str:
        """A new empty bucket (the env must be set); its s3:// URL."""
        import fsspec

        name = f"bucket-{os.getpid()}-{next(_buckets)}"
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        fs.mkdir(name)
        return f"s3://{name}"
