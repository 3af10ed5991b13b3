"""MIME types of common file extensions, for uploads given as a file path.

The standard library's ``mimetypes`` reads the system's mime.types files on first use;
the core performs no file I/O, so it carries this small table instead (the types people
upload to Google APIs most). Unknown extensions are sent as ``application/octet-stream``.
"""

from __future__ import annotations

__all__ = ["guess_type"]

_TYPES = {
    "txt": "text/plain", "text": "text/plain", "log": "text/plain", "csv": "text/csv", "tsv": "text/tab-separated-values",
    "html": "text/html", "htm": "text/html", "css": "text/css", "js": "text/javascript", "mjs": "text/javascript",
    "md": "text/markdown", "xml": "application/xml", "json": "application/json", "jsonl": "application/jsonl",
    "ndjson": "application/x-ndjson", "yaml": "application/yaml", "yml": "application/yaml", "ics": "text/calendar",
    "vcf": "text/vcard", "rtf": "application/rtf", "pdf": "application/pdf", "zip": "application/zip",
    "gz": "application/gzip", "tgz": "application/gzip", "tar": "application/x-tar", "bz2": "application/x-bzip2",
    "xz": "application/x-xz", "7z": "application/x-7z-compressed", "rar": "application/vnd.rar",
    "doc": "application/msword", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint", "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation", "epub": "application/epub+zip",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "bmp": "image/bmp", "svg": "image/svg+xml", "ico": "image/vnd.microsoft.icon", "tif": "image/tiff", "tiff": "image/tiff",
    "heic": "image/heic", "avif": "image/avif", "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg",
    "oga": "audio/ogg", "flac": "audio/flac", "m4a": "audio/mp4", "aac": "audio/aac", "opus": "audio/opus",
    "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska",
    "avi": "video/x-msvideo", "mpeg": "video/mpeg", "mpg": "video/mpeg", "3gp": "video/3gpp", "flv": "video/x-flv",
    "wmv": "video/x-ms-wmv", "srt": "application/x-subrip", "vtt": "text/vtt", "sbv": "text/plain",
    "apk": "application/vnd.android.package-archive", "aab": "application/octet-stream", "obb": "application/octet-stream",
    "eml": "message/rfc822", "mbox": "application/mbox", "parquet": "application/vnd.apache.parquet",
    "avro": "application/avro", "orc": "application/octet-stream", "wasm": "application/wasm",
}


def guess_type(path: str) -> str | None:
    """The MIME type for ``path``'s extension, or ``None`` when unknown."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in name:
        return None
    return _TYPES.get(name.rsplit(".", 1)[-1].lower())
