"""Media objects: an uploaded photo, video or voice note, private to its uploader until it
is attached to a record, then visible to whoever may see that record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.shared.errors import Conflict, InvalidInput, NotAllowed, NotFound

MB = 1024 * 1024


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"


class MediaStatus(StrEnum):
    PENDING = "pending"  # presigned upload begun, bytes not yet checked
    READY = "ready"
    REJECTED = "rejected"


# Content types accepted per kind (as sniffed from the bytes, never as declared).
ACCEPTED: dict[MediaKind, frozenset[str]] = {
    MediaKind.PHOTO: frozenset({"image/jpeg", "image/png", "image/webp"}),
    MediaKind.VIDEO: frozenset({"video/mp4", "video/quicktime"}),
    # m4a is audio/mp4; Opus voice notes come in an Ogg container (audio/ogg).
    MediaKind.AUDIO: frozenset(
        {"audio/aac", "audio/mp4", "audio/mpeg", "audio/amr", "audio/ogg", "audio/x-wav"}
    ),
}

EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "audio/aac": "aac",
    "audio/mp4": "m4a",
    "audio/mpeg": "mp3",
    "audio/amr": "amr",
    "audio/ogg": "ogg",
    "audio/x-wav": "wav",
}
# The reverse, for serving stored objects with the right type.
CONTENT_TYPES: dict[str, str] = {ext: ct for ct, ext in EXTENSIONS.items()}


class MediaNotFound(NotFound):
    code = "media.not_found"
    message_en = "The media object was not found."
    message_zh = "未找到该媒体文件。"


class UnsupportedMediaType(InvalidInput):
    code = "media.unsupported_type"
    message_en = "Only photos (JPEG, PNG, WebP), MP4/MOV videos and voice notes are accepted."
    message_zh = "仅支持照片（JPEG、PNG、WebP）、MP4/MOV 视频和语音。"


class MediaTooLarge(InvalidInput):
    code = "media.too_large"
    message_en = "The file is larger than allowed for its kind."
    message_zh = "文件超过该类型允许的大小。"


class PixelBomb(InvalidInput):
    code = "media.too_many_pixels"
    message_en = "The photo has too many pixels."
    message_zh = "照片像素过多。"


class UnreadableMedia(InvalidInput):
    code = "media.unreadable"
    message_en = "The file could not be decoded."
    message_zh = "文件无法解码。"


class UploadMissing(InvalidInput):
    code = "media.upload_missing"
    message_en = "Nothing was uploaded for this media object yet."
    message_zh = "该媒体文件尚未上传内容。"


class InvalidSignedUrl(NotAllowed):
    code = "media.url_invalid"
    message_en = "This media link is invalid or has expired."
    message_zh = "该媒体链接无效或已过期。"


class MediaNotPending(Conflict):
    code = "media.not_pending"
    message_en = "This upload was already completed or rejected."
    message_zh = "该上传已完成或已被拒绝。"


class MediaNotAttachable(Conflict):
    code = "media.not_attachable"
    message_en = "The media object is not ready or is attached to another record."
    message_zh = "该媒体文件尚未就绪或已附加到其他记录。"


@dataclass(frozen=True, slots=True)
class MediaLimits:
    photo_bytes: int = 15 * MB
    video_bytes: int = 50 * MB
    audio_bytes: int = 10 * MB
    photo_pixels: int = 40_000_000

    def max_bytes(self, kind: MediaKind) -> int:
        return {
            MediaKind.PHOTO: self.photo_bytes,
            MediaKind.VIDEO: self.video_bytes,
            MediaKind.AUDIO: self.audio_bytes,
        }[kind]

    @property
    def largest(self) -> int:
        return max(self.photo_bytes, self.video_bytes, self.audio_bytes)

    def check(self, kind: MediaKind, content_type: str, size: int) -> None:
        if content_type not in ACCEPTED[kind]:
            raise UnsupportedMediaType()
        limit = self.max_bytes(kind)
        if size > limit:
            raise MediaTooLarge(
                f"A {kind.value} may be at most {limit // MB} MB.",
                f"{_ZH_KIND[kind]}不得超过 {limit // MB} MB。",
            )


_ZH_KIND = {MediaKind.PHOTO: "照片", MediaKind.VIDEO: "视频", MediaKind.AUDIO: "语音"}


def kind_of(content_type: str) -> MediaKind:
    for kind, types in ACCEPTED.items():
        if content_type in types:
            return kind
    raise UnsupportedMediaType()


@dataclass(frozen=True, slots=True)
class Attachment:
    record_type: str  # e.g. "tip"
    record_id: uuid.UUID


@dataclass(slots=True)
class MediaObject:
    id: uuid.UUID
    owner_account_id: uuid.UUID
    kind: MediaKind
    content_type: str
    size: int
    storage_key: str
    status: MediaStatus
    created_at: datetime
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
    thumbnail_key: str | None = None
    phash: int | None = None  # perceptual hash of photos, for spotting reused ones
    rejection_reason: str | None = None
    attached_to: Attachment | None = None
    version: int = 1

    def owned_by(self, account_id: uuid.UUID) -> bool:
        return self.owner_account_id == account_id

    def complete(
        self,
        *,
        content_type: str,
        size: int,
        sha256: str,
        storage_key: str,
        width: int | None,
        height: int | None,
        thumbnail_key: str | None,
        phash: int | None = None,
    ) -> None:
        if self.status != MediaStatus.PENDING:
            raise MediaNotPending()
        self.kind = kind_of(content_type)
        self.content_type = content_type
        self.size, self.sha256, self.storage_key = size, sha256, storage_key
        self.width, self.height, self.thumbnail_key = width, height, thumbnail_key
        self.phash = phash
        self.status = MediaStatus.READY

    def reject(self, reason: str) -> None:
        if self.status != MediaStatus.PENDING:
            raise MediaNotPending()
        self.status = MediaStatus.REJECTED
        self.rejection_reason = reason

    def attach(self, attachment: Attachment) -> bool:
        """Attach to a record; False when already attached to that same record (a retry)."""
        if self.attached_to == attachment:
            return False
        if self.status != MediaStatus.READY or self.attached_to is not None:
            raise MediaNotAttachable()
        self.attached_to = attachment
        return True
