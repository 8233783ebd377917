"""/api/v1/media: photos, short videos and voice notes for tip-offs.

Upload in one request (multipart ``file``) or, for large files, begin a presigned upload,
PUT the bytes to the URL returned, then complete it. Files are fetched through signed,
expiring URLs; a media object is visible to its uploader and, once attached, to whoever
may see the record it is attached to.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from app.api.container import services_of
from app.api.context import current_scope
from app.api.rest import API_V1
from app.api.rest.common import parse_path_id
from app.api.rest.idempotency import run_idempotent
from app.domain.media.files import SignedFiles
from app.domain.media.model import MediaKind, MediaNotFound, MediaTooLarge
from app.domain.media.services import MediaService, MediaView
from app.domain.shared.errors import InvalidInput
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["media"])

CHUNK = 256 * 1024
# Multipart framing around the file; anything bigger than the largest file plus this is
# refused before the body is parsed.
MULTIPART_OVERHEAD = 64 * 1024
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such media object visible to you"},
    422: {"description": "Unsupported type (media.unsupported_type), too large, unreadable"},
}


class MediaOut(BaseModel):
    id: str
    kind: MediaKind
    content_type: str
    size: int
    width: int | None
    height: int | None
    status: str
    url: str | None = Field(description="Signed, expiring URL of the file (ready only)")
    thumbnail_url: str | None = Field(description="Signed URL of a 320px JPEG (photos)")
    rejection_reason: str | None = None
    attached: bool
    created_at: datetime

    @classmethod
    def of(cls, view: MediaView) -> MediaOut:
        m = view.media
        return cls(
            id=str(m.id),
            kind=m.kind,
            content_type=m.content_type,
            size=m.size,
            width=m.width,
            height=m.height,
            status=m.status.value,
            url=view.url,
            thumbnail_url=view.thumbnail_url,
            rejection_reason=m.rejection_reason,
            attached=m.attached_to is not None,
            created_at=m.created_at,
        )


class UploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: MediaKind
    content_type: str = Field(max_length=100, examples=["video/mp4"])
    size: int = Field(gt=0, description="Exact size in bytes of the file to upload")


class UploadOut(BaseModel):
    id: str
    upload_url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


def _service(request: Request) -> MediaService:
    return services_of(request).get(MediaService)


def _created(view: MediaView) -> JSONResponse:
    return JSONResponse(
        MediaOut.of(view).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/api/v1/media/{view.media.id}"},
    )


async def _read_file(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise MediaTooLarge()
    form = await request.form(max_files=1, max_fields=2)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "Send the file as multipart/form-data field 'file'.",
                "请以 multipart/form-data 的 file 字段上传文件。",
                code="media.file_missing",
            )
        data = bytearray()
        while chunk := await upload.read(CHUNK):
            data += chunk
            if len(data) > limit:
                raise MediaTooLarge()
        return bytes(data)
    finally:
        await form.close()


@router.post(
    "/media",
    operation_id="uploadMedia",
    summary="Upload a photo, short video or voice note (multipart field 'file')",
    status_code=201,
    response_model=MediaOut,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_media(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Any:
    service = _service(request)
    data = await _read_file(request, service.limits.largest)

    async def create() -> JSONResponse:
        return _created(await service.upload(scope, data))

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="uploadMedia",
        payload={"sha256": await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())},
        handler=create,
    )


@router.post(
    "/media/uploads",
    operation_id="beginMediaUpload",
    summary="Begin a presigned upload of a large file",
    status_code=201,
    response_model=UploadOut,
    responses=ERRORS,
)
async def begin_upload(
    request: Request, body: UploadIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def create() -> JSONResponse:
        ticket = await _service(request).begin_upload(
            scope, body.kind, body.content_type, body.size
        )
        out = UploadOut(
            id=str(ticket.media.id),
            upload_url=ticket.upload.url,
            method=ticket.upload.method,
            headers=ticket.upload.headers,
            expires_at=ticket.expires_at,
        )
        return JSONResponse(
            out.model_dump(mode="json"),
            status_code=201,
            headers={"Location": f"/api/v1/media/{ticket.media.id}"},
        )

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="beginMediaUpload",
        payload=body.model_dump(mode="json"),
        handler=create,
    )


@router.put(
    "/media/uploads/{media_id}",
    operation_id="putMediaUpload",
    summary="Receive the bytes of a presigned upload (local storage; the URL is the permission)",
    status_code=204,
    responses={403: {"description": "Invalid or expired upload URL"}, 422: ERRORS[422]},
)
async def put_upload(
    request: Request,
    media_id: str,
    exp: Annotated[int, Query()],
    max: Annotated[int, Query(gt=0)],
    sig: Annotated[str, Query(max_length=128)],
) -> Response:
    await (
        services_of(request)
        .get(SignedFiles)
        .receive(
            parse_path_id(media_id, MediaNotFound),
            exp,
            sig,
            request.headers.get("content-type", ""),
            max,
            request.stream(),
        )
    )
    return Response(status_code=204)


@router.get(
    "/media/files/{key:path}",
    operation_id="getMediaFile",
    summary="Download a media file through a signed, expiring URL",
    response_class=StreamingResponse,
    responses={403: {"description": "Invalid or expired URL"}, 404: ERRORS[404]},
)
async def get_file(
    request: Request,
    key: str,
    exp: Annotated[int, Query()],
    sig: Annotated[str, Query(max_length=128)],
) -> Response:
    opened = await services_of(request).get(SignedFiles).open(key, exp, sig)
    return StreamingResponse(
        opened.chunks,
        media_type=opened.content_type,
        headers={
            "Content-Length": str(opened.size),
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post(
    "/media/{media_id}/complete",
    operation_id="completeMediaUpload",
    summary="Check and process a presigned upload; ready, or rejected with the reason",
    response_model=MediaOut,
    responses={**ERRORS, 409: {"description": "Already completed or rejected"}},
)
async def complete_upload(
    request: Request, media_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    view = await _service(request).complete_upload(scope, parse_path_id(media_id, MediaNotFound))
    return MediaOut.of(view)


@router.get(
    "/media/{media_id}",
    operation_id="getMedia",
    summary="A media object with fresh signed URLs",
    response_model=MediaOut,
    responses=ERRORS,
)
async def get_media(
    request: Request, media_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    view = await _service(request).get(scope, parse_path_id(media_id, MediaNotFound))
    return MediaOut.of(view)
