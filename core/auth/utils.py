"""Secrets for OAuth flows (seed ``aiogoogle.auth.utils``): ``state``, ``nonce`` and PKCE.

Each takes ``random_bytes`` (``random_bytes(n) -> bytes``, default the operating system's
CSPRNG, :func:`aiogoogle._providers.system_random_bytes`), so that tests and embedders can
make authorization URLs byte-for-byte reproducible.
"""

from __future__ import annotations

import base64
import hashlib

from .._providers import RandomBytes, system_random_bytes, urlsafe_token

__all__ = ["create_secret", "pkce_challenge", "pkce_pair"]


def create_secret(bytes_length: int = 1024, *, random_bytes: RandomBytes = system_random_bytes) -> str:
    """A URL-safe random string made from ``bytes_length`` random bytes (for ``state`` and
    ``nonce``; seed API). The default makes a long string; 32 bytes are plenty (RFC 6749
    §10.10: the chance of guessing must be at most 2^-128; 32 bytes give 2^-256)."""
    return urlsafe_token(random_bytes, bytes_length)


def pkce_challenge(code_verifier: str) -> str:
    """``BASE64URL(SHA256(ascii(code_verifier)))`` without padding (RFC 7636 §4.2, S256)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair(*, random_bytes: RandomBytes = system_random_bytes) -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)`` for PKCE S256 (RFC 7636 §4.1: 43-128
    characters from the unreserved set; 64 random bytes give 86)."""
    verifier = urlsafe_token(random_bytes, 64)
    return verifier, pkce_challenge(verifier)
