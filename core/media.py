"""Media uploads and downloads as core flows (docs/protocol.md §2): uploads in
:mod:`aiogoogle._upload`, downloads in :mod:`aiogoogle._download`; this module is their
public face (every name it had stays importable from here).

Uploads
-------
Three protocols, chosen per call (:func:`choose_protocol`):

* **simple** (``uploadType=media``, §2.1): the bytes are the body;
* **multipart** (``uploadType=multipart``, §2.2): a ``multipart/related`` body, JSON metadata
  first, then the media, CRLF framing. Without metadata there is *no* metadata part: the
  upload is sent as a simple one (aiogoogle sent a literal ``null`` part and corrupted files);
* **resumable** (``uploadType=resumable``, §2.3): a session is initiated, then the media goes
  in chunks (multiples of 256 KiB) with ``Content-Range``. Every 308 reply says how much the
  server persisted (``Range: bytes=0-N``; *no* ``Range`` means nothing) and the next chunk
  starts right after it, so bytes the server dropped are sent again. After a broken
  connection, a timeout, a 408/429/5xx or a rate-limit 403, the flow backs off and asks the
  server where it stands (``Content-Range: bytes */total`` or ``bytes */*``) before going on.
  :attr:`MediaUpload.session_uri` and :attr:`MediaUpload.offset` are kept up to date, so an
  upload can be resumed later, in another process (pass ``session_uri`` back in).

Sources are described, not read, by the core: a local file becomes
:class:`~aiogoogle._http.FileRange` segments the driver streams from disk; bytes are sliced;
an async iterable (``pipe_from``) is pulled chunk by chunk with :class:`~aiogoogle._effects.Pull`
and the current chunk is held until the server confirmed it, because it cannot be re-read.
Memory is thus bounded by about twice the chunk size whatever the upload's size.

Downloads
---------
The body streams into a temporary file ``<file_path>.part`` (renamed over ``file_path`` only
once complete and verified) or into ``pipe_to``. The request asks for raw bytes: decoding of
``Content-Encoding`` happens here, after hashing, because ``x-goog-hash`` describes the bytes
as stored (§2.5). After a broken connection the download continues with
``Range: bytes=<received>-``, pinned to the object's ``generation`` when the server named it
(``x-goog-generation``), so a concurrent overwrite cannot splice two versions together. A
server that ignores the range and answers 200 is handled too: the bytes already delivered are
skipped. ``range_chunks=True`` downloads in ``Range`` requests of ``chunk_size`` bytes.
crc32c (preferred) or md5 from ``x-goog-hash`` is checked when the whole object was received;
it is skipped for decompressive transcoding (``x-goog-stored-content-encoding: gzip`` served
without ``Content-Encoding: gzip``), where the stored hash cannot match (§2.5). An error
response is returned (and raised by the client), never written to the destination.
"""

from __future__ import annotations

from ._download import (
    _content_range,  # noqa: F401
    _DownloadConsumer,  # noqa: F401
    _hashes,  # noqa: F401
    download_flow,
)
from ._upload import (
    RESUMABLE_THRESHOLD,
    UPLOAD_GRANULE,
    Protocol,  # noqa: F401
    choose_protocol,
    multipart_body,
    parse_persisted,
    upload_flow,
    upload_url,
)

__all__ = [
    "RESUMABLE_THRESHOLD",
    "UPLOAD_GRANULE",
    "choose_protocol",
    "download_flow",
    "multipart_body",
    "parse_persisted",
    "upload_flow",
    "upload_url",
]
