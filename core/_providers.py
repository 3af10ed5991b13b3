"""The default providers of everything nondeterministic the core uses: random bytes, the
clocks and retry jitter.

Protocol code never calls :mod:`secrets`, :mod:`random` or :mod:`time` itself. It takes
each source as a parameter whose default is defined here, so that the same inputs give
byte-identical requests when the sources are fixed (tests/test_golden_bytes.py checks both
that and that no other module of the core reads them directly):

=====================  ===============================================  =====================
source                 injected through                                 default
=====================  ===============================================  =====================
random bytes           ``CallOptions.random_bytes`` (multipart and      :func:`system_random_bytes`
                       batch boundaries, batch Content-IDs); the auth
                       managers' ``random_bytes=`` and
                       ``create_secret``/``pkce_pair`` (``state``,
                       ``nonce``, PKCE verifier)
wall clock             ``Driver(clock=)``, ``run_sync``/``run_async``   :data:`wall_clock`
                       ``clock=``, the managers' ``clock=`` (every
                       flow reads it through the ``Now`` effect)
monotonic clock        ``Driver(monotonic=)``, ``run_sync``/            :data:`monotonic_clock`
                       ``run_async`` ``monotonic=``
retry jitter           ``RetryPolicy(random=)``                          :data:`jitter_fraction`
=====================  ===============================================  =====================

One function, ``random_bytes(n) -> bytes``, is the single source of randomness of requests:
strings are derived from it here (:func:`urlsafe_token`, :func:`hex_token`), so a caller
fixes every boundary, ``state``, ``nonce`` and verifier by fixing that one function.
"""

from __future__ import annotations

import base64
import random as _random
import secrets
import time
from collections.abc import Callable

from .excs import ValidationError

__all__ = [
    "RandomBytes",
    "hex_token",
    "jitter_fraction",
    "monotonic_clock",
    "system_random_bytes",
    "urlsafe_token",
    "wall_clock",
]

#: ``random_bytes(n)`` returns ``n`` random bytes.
RandomBytes = Callable[[int], bytes]

#: Seconds since the UNIX epoch (the wall clock: token expiry, JWT ``iat``/``exp``).
wall_clock: Callable[[], float] = time.time
#: Seconds from an arbitrary origin that never goes back (retry deadlines, polling).
monotonic_clock: Callable[[], float] = time.monotonic
#: A float in [0, 1) scaling each retry's backoff cap. Jitter only spreads clients apart in
#: time (https://cloud.google.com/storage/docs/retry-strategy#exponential-backoff); it needs
#: no cryptographic strength, so the faster Mersenne Twister serves.
jitter_fraction: Callable[[], float] = _random.random


def system_random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's CSPRNG (:func:`secrets.token_bytes`): the
    default of every ``random_bytes`` parameter. The ``state``, ``nonce`` and PKCE verifier
    must be unguessable (RFC 6749 §10.10, RFC 7636 §7.1), hence a CSPRNG."""
    return secrets.token_bytes(n)


def _draw(random_bytes: RandomBytes, n: int) -> bytes:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationError([("bytes_length", "must be a whole number of bytes (0 or more)", n)])
    data = random_bytes(n)
    if not isinstance(data, (bytes, bytearray)) or len(data) != n:
        # The bytes themselves are not shown: they may be a secret's seed (state, verifier).
        got = f"{len(data)} bytes" if isinstance(data, (bytes, bytearray)) else type(data).__name__
        raise ValidationError([("random_bytes", f"must return exactly the {n} bytes asked for; it returned {got}")])
    return bytes(data)


def urlsafe_token(random_bytes: RandomBytes, nbytes: int) -> str:
    """``nbytes`` random bytes as unpadded URL-safe base64 (RFC 4648 §5): the same alphabet
    and length as :func:`secrets.token_urlsafe`, so every character is unreserved
    (RFC 3986 §2.3) and needs no percent-encoding in a URL."""
    return base64.urlsafe_b64encode(_draw(random_bytes, nbytes)).rstrip(b"=").decode("ascii")


def hex_token(random_bytes: RandomBytes, nbytes: int) -> str:
    """``nbytes`` random bytes as lowercase hex (``2 * nbytes`` characters): valid in a
    MIME boundary (RFC 2046 §5.1.1) and in a Content-ID (RFC 2392)."""
    return _draw(random_bytes, nbytes).hex()
