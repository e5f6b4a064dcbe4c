"""S3-compatible object storage for the fleet store (boto3; tested against SeaweedFS).

Each artifact is one object `artifacts/<id>` carrying its metadata as S3 user metadata
(hyphenated keys), plus a manifest `artifacts/<id>.manifest.json` with the same
metadata under OpenTelemetry names, so other tools can read the bucket without godiag.
A single PUT is atomic on S3: an interrupted upload leaves no object at all, which is
why artifacts (limited to a few hundred MB) are never sent as multipart uploads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from godiag.errors import StoreError
from godiag.store.metadata import ArtifactMeta

PREFIX = "artifacts/"
MANIFEST = ".manifest.json"


class Bucket:
    def __init__(self, s3: dict[str, str]) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.endpoint = s3["endpoint"]
        self.name = s3["bucket"]
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=s3.get("region") or "us-east-1",
            aws_access_key_id=s3.get("access_key"),
            aws_secret_access_key=s3.get("secret_key"),
            config=BotoConfig(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=120,
            ),
        )

    def _call(self, what: str, fn: Any, **kw: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.name, **kw)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise StoreError(
                f"S3 {what} in bucket {self.name!r} at {self.endpoint} failed: "
                f"{err.get('Code', '?')}: {err.get('Message', '')}"
            ) from None
        except BotoCoreError as exc:
            raise StoreError(f"S3 {what} at {self.endpoint} failed: {exc}") from None

    @staticmethod
    def key(aid: str) -> str:
        return PREFIX + aid

    def uri(self, aid: str) -> str:
        return f"s3://{self.name}/{self.key(aid)}"

    def put(self, aid: str, data: bytes, meta: ArtifactMeta) -> None:
        """Manifest first, object second: an object is never there without its manifest."""
        manifest = {"id": aid, "attributes": meta.to_otel()}
        self._call(
            "put manifest",
            self.client.put_object,
            Key=self.key(aid) + MANIFEST,
            Body=json.dumps(manifest, sort_keys=True).encode(),
            ContentType="application/json",
        )
        self._call(
            "put object",
            self.client.put_object,
            Key=self.key(aid),
            Body=data,
            Metadata=meta.to_object_metadata(),
            ContentType="application/octet-stream",
        )

    def get(self, aid: str) -> bytes:
        resp = self._call("get object", self.client.get_object, Key=self.key(aid))
        data: bytes = resp["Body"].read()
        return data

    def head(self, aid: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            resp: dict[str, Any] = self.client.head_object(Bucket=self.name, Key=self.key(aid))
            return resp
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(f"S3 head {self.key(aid)} failed: {exc}") from None

    def has_manifest(self, aid: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.name, Key=self.key(aid) + MANIFEST)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(f"S3 head {self.key(aid)}{MANIFEST} failed: {exc}") from None

    def delete(self, aid: str) -> None:
        # Object first: a manifest left alone is harmless, an object without one is not.
        self._call("delete object", self.client.delete_object, Key=self.key(aid))
        self._call("delete manifest", self.client.delete_object, Key=self.key(aid) + MANIFEST)

    def ids(self) -> Iterator[str]:
        """Artifact ids found in the bucket (from objects and manifests; may repeat)."""
        token: str | None = None
        while True:
            kw: dict[str, Any] = {"Prefix": PREFIX, "MaxKeys": 1000}
            if token:
                kw["ContinuationToken"] = token
            resp = self._call("list objects", self.client.list_objects_v2, **kw)
            for obj in resp.get("Contents", []):
                name = obj["Key"][len(PREFIX) :]
                yield name.removesuffix(MANIFEST)
            if not resp.get("IsTruncated"):
                return
            token = resp.get("NextContinuationToken")
