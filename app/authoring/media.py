"""Images for modules: uploaded by mentors, typed from their first bytes, served back with strict headers.

An upload's type is read from its magic number, never from its name or the browser's Content-Type, and only
PNG, JPEG, WebP and GIF are kept. A stored image never changes: its address `/media/<id>/<filename>` can be
cached for a long time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError

from ..errors import render_error
from ..extensions import db
from ..models import MediaFile, ModuleRecord, Role, User
from ..security import role_required

blueprint = Blueprint("media", __name__)
AUTHORS = (Role.MENTOR, Role.ADMIN)
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
# What a multipart request adds around the file: boundaries, part headers, the CSRF token.
FORM_OVERHEAD_BYTES = 64 * 1024
ONE_YEAR_SECONDS = 365 * 24 * 3600
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
ACCEPTED = "PNG, JPEG, WebP or GIF"
_UNSAFE_RE = re.compile(r"[^a-z0-9.-]+")


class UploadError(Exception):
    """An upload that cannot be kept; the message says what is wrong and what to do."""


def sniff_image_type(data: bytes) -> str | None:
    """The image type that the first bytes announce (PNG, JPEG, WebP or GIF), or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def safe_filename(name: str | None, content_type: str) -> str:
    """A stored name from the upload's name: lowercase letters, digits, hyphens and dots, ending in the real type's extension."""
    stem = (name or "").replace("\\", "/").rsplit("/", 1)[-1].lower()
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = _UNSAFE_RE.sub("-", stem)
    stem = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", stem)).strip(".-")[:80].strip(".-")
    return f"{stem or 'image'}.{EXTENSIONS[content_type]}"


@dataclass(frozen=True)
class Upload:
    """A checked upload, ready to store."""

    filename: str
    content_type: str
    data: bytes


def check_upload(file: FileStorage | None, max_bytes: int) -> Upload:
    """Read and check an uploaded file; raise UploadError naming the problem and what to do."""
    if file is None or not file.filename:
        raise UploadError(f"No file was sent. Choose an image ({ACCEPTED}) with the file button, then upload it.")
    data = file.stream.read(max_bytes + 1)
    if not data:
        raise UploadError(f"The file '{file.filename}' is empty. Choose an image ({ACCEPTED}) that opens on your computer.")
    if len(data) > max_bytes:
        raise UploadError(f"The file '{file.filename}' is larger than {_megabytes(max_bytes)}. Make the image smaller (resize or compress it) and upload it again.")
    content_type = sniff_image_type(data)
    if content_type is None:
        raise UploadError(
            f"The file '{file.filename}' is not a {ACCEPTED} image, whatever its name says. Save or export it in one of these formats and upload it again."
        )
    return Upload(safe_filename(file.filename, content_type), content_type, data)


def store_image(session: Session, module_id: str, upload: Upload, uploader: User | None) -> MediaFile:
    """Keep a checked image for a module."""
    media = MediaFile(
        module_id=module_id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        data=upload.data,
        uploaded_by_id=uploader.id if uploader is not None else None,
    )
    session.add(media)
    session.flush()
    return media


def images_of(session: Session, module_id: str) -> list[MediaFile]:
    """A module's images, oldest first."""
    return list(session.scalars(select(MediaFile).where(MediaFile.module_id == module_id).order_by(MediaFile.id)))


def markdown_snippet(media: MediaFile) -> str:
    """The Markdown that shows an image in a module."""
    return f"![Describe the image](/media/{media.id}/{media.filename})"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _max_bytes() -> int:
    return int(current_app.config.get("MEDIA_MAX_BYTES", DEFAULT_MAX_BYTES))


def _editor_url(module_id: str) -> str:
    try:
        return url_for("authoring.edit", module_id=module_id)
    except BuildError:
        return f"/authoring/modules/{module_id}"


@blueprint.url_value_preprocessor
def allow_image_sized_requests(endpoint: str | None, _values: dict[str, object] | None) -> None:
    """Let an upload of up to MEDIA_MAX_BYTES through; the site-wide MAX_CONTENT_LENGTH stays for every other form.

    URL value preprocessors run before every `before_request` function, so the limit is in place before the
    CSRF check reads the form.
    """
    if endpoint == "media.upload":
        request.max_content_length = max(_max_bytes() + FORM_OVERHEAD_BYTES, current_app.config.get("MAX_CONTENT_LENGTH") or 0)


@blueprint.errorhandler(RequestEntityTooLarge)
def upload_too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    """A request far beyond the image limit: a plain page saying what the limit is."""
    return render_error(413, f"The image is larger than {_megabytes(_max_bytes())}. Make it smaller (resize or compress it) and upload it again.")


@blueprint.route("/authoring/modules/<module_id>/images", methods=["POST"])
@role_required(*AUTHORS)
def upload(module_id: str) -> ResponseReturnValue:
    """Keep an image for a module and give the Markdown to paste."""
    if db.session.get(ModuleRecord, module_id) is None:
        abort(404, description="There is no such module. Choose one from the list of modules.")
    try:
        checked = check_upload(request.files.get("image"), _max_bytes())
    except UploadError as error:
        return render_error(400, str(error))
    finally:
        for file in request.files.values():
            file.close()  # a large upload is spooled to a temporary file: let it go now
    user: User = current_user
    media = store_image(db.session, module_id, checked, user)
    db.session.commit()
    flash(f"Image uploaded. Paste this where it should appear, and describe the image: {markdown_snippet(media)}", "success")
    return redirect(_editor_url(module_id), 303)


@blueprint.route("/media/<int:file_id>/<filename>")
def serve(file_id: int, filename: str) -> Response:
    """An uploaded image, with its stored type, never sniffed or run by the browser, cached for long."""
    media = db.session.get(MediaFile, file_id)
    if media is None or media.filename != filename:
        abort(404, description="There is no such image. Copy its address again from the module's editor.")
    response = Response(media.data, mimetype=media.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{media.filename}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = f"private, max-age={ONE_YEAR_SECONDS}, immutable"
    return response
