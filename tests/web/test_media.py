"""Images for modules: uploads typed from their bytes, the size limit, who may upload, and how images are served."""

import base64
import io
import struct
import zlib

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.authoring.media import images_of, markdown_snippet, safe_filename, sniff_image_type
from app.models import MediaFile, Role

from ..conftest import csrf_token

MODULE = "search-like-a-pro"
UPLOAD = f"/authoring/modules/{MODULE}/images"


def _png(width: int = 1, height: int = 1) -> bytes:
    """A real PNG: white pixels, 8-bit greyscale."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png()
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
JPEG = base64.b64decode(
    "/9j/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/yQALCAABAAEBAREA/8wABgAQEAX/2gAIAQEAAD8A0s8g/9k="
)


@pytest.fixture
def mentor_client(client, people):
    people.login(client, people.create(Role.MENTOR, name="Max Mentor"))
    return client


def _post(client, data: bytes | None, filename: str = "picture.png", mimetype: str = "image/png", token: str | None = None, path: str = UPLOAD):
    form = {"csrf_token": token if token is not None else csrf_token(client.get("/").get_data(as_text=True))}
    if data is not None:
        form["image"] = FileStorage(io.BytesIO(data), filename, content_type=mimetype)
    # Encoded in memory: the test client would spool a large body to a temporary file and never close it.
    boundary, body = encode_multipart(form)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _media_count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(MediaFile))


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "stored_name"),
    [
        (PNG, "Screen Shot.png", "image/png", "screen-shot.png"),
        (JPEG, "photo.JPEG", "image/jpeg", "photo.jpg"),
        (WEBP, "diagram.webp", "image/webp", "diagram.webp"),
        (GIF, "spinner.gif", "image/gif", "spinner.gif"),
    ],
)
def test_each_accepted_type_is_stored_and_served_back(mentor_client, db_session, data, filename, content_type, stored_name):
    response = _post(mentor_client, data, filename, "application/octet-stream")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].endswith(f"/authoring/modules/{MODULE}")
    media = db_session.scalar(select(MediaFile).where(MediaFile.module_id == MODULE))
    assert (media.content_type, media.filename, media.size, media.data) == (content_type, stored_name, len(data), data)
    with mentor_client.session_transaction() as session:
        flashes = [message for _, message in session.get("_flashes", [])]
    assert any(f"![Describe the image](/media/{media.id}/{stored_name})" in message for message in flashes)
    served = mentor_client.get(f"/media/{media.id}/{stored_name}")
    assert served.status_code == 200
    assert served.data == data
    assert served.headers["Content-Type"] == content_type


def test_a_png_named_gif_is_stored_as_png(mentor_client, db_session):
    assert _post(mentor_client, PNG, "animation.gif", "image/gif").status_code == 303
    media = db_session.scalar(select(MediaFile).where(MediaFile.module_id == MODULE))
    assert (media.content_type, media.filename) == ("image/png", "animation.png")


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"just some text, not an image\n", "notes.png", "is not a PNG, JPEG, WebP or GIF image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.png", "is not a PNG, JPEG, WebP or GIF image"),
        (b"", "empty.png", "is empty"),
        (None, "", "No file was sent"),
    ],
)
def test_a_bad_upload_is_refused_with_what_to_do_and_nothing_is_saved(mentor_client, db_session, data, filename, expected):
    response = _post(mentor_client, data, filename, "image/png")
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert _media_count(db_session) == 0


def test_an_image_of_exactly_the_limit_is_accepted_and_one_byte_more_is_refused(app, mentor_client, db_session):
    limit = app.config["MEDIA_MAX_BYTES"]
    assert limit == 2 * 1024 * 1024
    at_limit = PNG + b"\x00" * (limit - len(PNG))
    assert _post(mentor_client, at_limit, "big.png").status_code == 303
    too_big = _post(mentor_client, at_limit + b"\x00", "bigger.png")
    assert too_big.status_code == 400
    assert "larger than 2 MB" in too_big.get_data(as_text=True)
    assert _media_count(db_session) == 1


def test_a_request_far_over_the_limit_gets_a_friendly_413(mentor_client, db_session):
    response = _post(mentor_client, PNG + b"\x00" * (3 * 1024 * 1024), "huge.png")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 2 MB" in page
    assert "Traceback" not in page
    assert _media_count(db_session) == 0


@pytest.mark.parametrize("role", [Role.LEARNER, Role.HR])
def test_only_mentors_and_administrators_upload(client, people, db_session, role):
    people.login(client, people.create(role))
    assert _post(client, PNG).status_code == 403
    assert _media_count(db_session) == 0


def test_an_administrator_uploads(client, people, db_session):
    people.login(client, people.create(Role.ADMIN))
    assert _post(client, PNG).status_code == 303
    assert _media_count(db_session) == 1


def test_an_upload_without_the_csrf_token_is_refused(mentor_client, db_session):
    assert _post(mentor_client, PNG, token="").status_code == 400
    assert _media_count(db_session) == 0


def test_an_upload_for_an_unknown_module_gives_404(mentor_client, db_session):
    assert _post(mentor_client, PNG, path="/authoring/modules/no-such-module/images").status_code == 404
    assert _media_count(db_session) == 0


def test_an_image_is_served_with_strict_headers_to_any_signed_in_user(mentor_client, client, people, db_session):
    _post(mentor_client, PNG, "chart.png")
    media = db_session.scalar(select(MediaFile))
    mentor_client.post("/logout", data={"csrf_token": csrf_token(mentor_client.get("/").get_data(as_text=True))})
    people.login(client, people.create(Role.LEARNER))
    response = client.get(f"/media/{media.id}/chart.png")
    assert response.status_code == 200
    assert response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == 'inline; filename="chart.png"'
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "no-store" not in response.headers["Cache-Control"]


def test_a_wrong_filename_or_id_gives_404(mentor_client, db_session):
    _post(mentor_client, PNG, "chart.png")
    media = db_session.scalar(select(MediaFile))
    assert mentor_client.get(f"/media/{media.id}/other.png").status_code == 404
    assert mentor_client.get(f"/media/{media.id + 1000}/chart.png").status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/media/1/chart.png")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("My Photo (1).PNG", "my-photo-1.png"),
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\pat\\Desktop\\screen.png", "screen.png"),
        ("écran d'accueil.png", "cran-d-accueil.png"),
        ("..png", "image.png"),
        ("", "image.png"),
        ("noextension", "noextension.png"),
        ("archive.tar.gz", "archive.tar.png"),
    ],
)
def test_stored_filenames_are_safe(name, expected):
    assert safe_filename(name, "image/png") == expected


def test_the_type_comes_from_the_first_bytes_only():
    assert [sniff_image_type(data) for data in (PNG, JPEG, WEBP, GIF)] == ["image/png", "image/jpeg", "image/webp", "image/gif"]
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff_image_type(b"<?xml version='1.0'?><svg/>") is None
    assert sniff_image_type(b"") is None


def test_the_snippet_points_at_the_served_address():
    media = MediaFile(id=7, filename="chart.png")
    assert markdown_snippet(media) == "![Describe the image](/media/7/chart.png)"


def test_images_of_lists_a_module_s_images_oldest_first(mentor_client, db_session):
    _post(mentor_client, PNG, "first.png")
    _post(mentor_client, GIF, "second.gif")
    _post(mentor_client, PNG, "elsewhere.png", path="/authoring/modules/keeping-informed/images")
    assert [m.filename for m in images_of(db_session, MODULE)] == ["first.png", "second.gif"]
    assert [m.filename for m in images_of(db_session, "keeping-informed")] == ["elsewhere.png"]
    assert images_of(db_session, "no-such-module") == []
