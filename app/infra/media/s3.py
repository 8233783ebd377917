"""Media in S3-compatible object storage (AWS S3, MinIO, COS/OSS S3 endpoints) through
aiobotocore; clients hand out presigned GET/PUT URLs and talk to storage directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import ClientCreatorContext, get_session
from botocore.exceptions import ClientError

from app.domain.media.model import MediaNotFound
from app.domain.media.ports import PresignedUpload

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True, slots=True)
class S3Config:
    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None


class S3MediaStorage:
    def __init__(self, config: S3Config) -> None:
        self.config = config
        self._session = get_session()

    def _client(self) -> ClientCreatorContext[S3Client]:
        c = self.config
        return self._session.create_client(
            "s3",
            region_name=c.region,
            endpoint_url=c.endpoint_url or None,
            aws_access_key_id=c.access_key_id or None,
            aws_secret_access_key=c.secret_access_key or None,
            config=AioConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        async with self._client() as s3:
            await s3.put_object(
                Bucket=self.config.bucket, Key=key, Body=data, ContentType=content_type
            )

    async def get(self, key: str) -> bytes | None:
        async with self._client() as s3:
            try:
                response = await s3.get_object(Bucket=self.config.bucket, Key=key)
            except ClientError as error:
                if _missing(error):
                    return None
                raise
            async with response["Body"] as body:
                return await body.read()

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async with self._client() as s3:
            try:
                response = await s3.get_object(Bucket=self.config.bucket, Key=key)
            except ClientError as error:
                if _missing(error):
                    raise MediaNotFound() from None
                raise
            async with response["Body"] as body:
                async for chunk in body.iter_chunks():
                    yield chunk

    async def size(self, key: str) -> int | None:
        async with self._client() as s3:
            try:
                head = await s3.head_object(Bucket=self.config.bucket, Key=key)
            except ClientError as error:
                if _missing(error):
                    return None
                raise
            return int(head["ContentLength"])

    async def delete(self, key: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.config.bucket, Key=key)

    async def presign_put(
        self, key: str, content_type: str, max_size: int, ttl_seconds: int
    ) -> PresignedUpload:
        # A presigned PUT cannot cap the size; completing the upload checks it (HEAD first).
        async with self._client() as s3:
            url = await s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.config.bucket, "Key": key, "ContentType": content_type},
                ExpiresIn=ttl_seconds,
            )
        return PresignedUpload(url=url, method="PUT", headers={"Content-Type": content_type})

    async def url_for(self, key: str, ttl_seconds: int) -> str:
        async with self._client() as s3:
            return await s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.config.bucket, "Key": key},
                ExpiresIn=ttl_seconds,
            )


def _missing(error: ClientError) -> bool:
    response: Any = error.response
    return str(response.get("Error", {}).get("Code", "")) in _MISSING
