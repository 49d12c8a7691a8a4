"""The S3 adapter of the storage port: objects in an S3-compatible bucket (AWS, MinIO, Ceph, cloud object storage).

Through boto3, the AWS SDK, which speaks to any S3-compatible endpoint (``PORTAL_S3_ENDPOINT_URL``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from .. import Health
from . import KEY_PATTERN, READ_SIZE, ObjectNotFound, check_key

S3_MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
S3_PART_SIZE = 8 * 1024 * 1024


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, cloud object storage), under ``prefix``.

    Bodies below ``part_size`` go in one PutObject; larger ones as a multipart upload of ``part_size`` parts,
    so at most one part is held in memory. Give the bucket a lifecycle rule that aborts incomplete multipart
    uploads after a day too: ``sweep_incomplete`` does the same, but only when someone runs it.
    """

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None, prefix: str = "",
                 part_size: int = S3_PART_SIZE, client: object | None = None):
        if part_size < S3_MIN_PART_SIZE:
            raise ValueError(f"S3 parts must have at least {S3_MIN_PART_SIZE} bytes, not {part_size}")
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.endpoint = endpoint_url or ""
        self.client = client or _s3_client(endpoint_url, region, access_key, secret_key)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        name = self._name(key)
        parts = _parts(chunks, self.part_size)
        first = next(parts)
        if len(first) < self.part_size:  # the whole body: one request, atomic by itself
            self.client.put_object(Bucket=self.bucket, Key=name, Body=first)
            return len(first)
        return self._put_multipart(name, first, parts)

    def open(self, key: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise ObjectNotFound(key) from None
        try:
            yield from body.iter_chunks(READ_SIZE)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"][len(self.prefix):]
                if KEY_PATTERN.fullmatch(key):
                    yield key

    def modified_at(self, key: str) -> datetime | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return head["LastModified"]

    def health(self) -> Health:
        """HeadBucket: the bucket exists and these credentials may use it."""
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"S3 bucket {self.bucket!r}" + (f" at {self.endpoint}" if self.endpoint else "")
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            return Health(False, f"{where}: {code}")
        except BotoCoreError as exc:
            return Health(False, f"{where} unreachable: {exc.__class__.__name__}")
        return Health(True, f"{where}, prefix {self.prefix!r}")

    def sweep_incomplete(self, before: datetime) -> int:
        """Abort multipart uploads under the prefix that were started before ``before`` and never finished."""
        removed = 0
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for upload in page.get("Uploads", ()):
                if upload["Initiated"] < before:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                    removed += 1
        return removed

    def _put_multipart(self, name: str, first: bytes, rest: Iterator[bytes]) -> int:
        """Upload the parts and complete; on any failure (including in the chunk source), abort the upload so
        no object and no stored part remains, and re-raise."""
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)["UploadId"]
        target = {"Bucket": self.bucket, "Key": name, "UploadId": upload_id}
        try:
            done, size = [], 0
            for number, body in enumerate(_prepend(first, rest), start=1):
                etag = self.client.upload_part(**target, PartNumber=number, Body=body)["ETag"]
                done.append({"ETag": etag, "PartNumber": number})
                size += len(body)
            self.client.complete_multipart_upload(**target, MultipartUpload={"Parts": done})
        except BaseException:
            self.client.abort_multipart_upload(**target)
            raise
        return size

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)


def _s3_client(endpoint_url: str | None, region: str | None, access_key: str | None, secret_key: str | None):
    import boto3
    from botocore.config import Config

    # Checksums only where the API requires them: several S3-compatible stores refuse the newer default
    # CRC headers, and every body is authenticated by its own encryption anyway.
    config = Config(signature_version="s3v4", request_checksum_calculation="when_required",
                    response_checksum_validation="when_required", retries={"mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None, config=config)


def _parts(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Group chunks into parts of at least ``size`` bytes, the last one smaller; always at least one part."""
    buffer = bytearray()
    any_yielded = False
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
            any_yielded = True
    if buffer or not any_yielded:
        yield bytes(buffer)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
