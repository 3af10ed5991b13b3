"""Secrets for OAuth flows (seed ``aiogoogle.auth.utils``): ``state``, ``nonce`` and PKCE."""

from __future__ import annotations

import base64
import hashlib
import secrets

__all__ = ["create_secret", "pkce_challenge", "pkce_pair"]


def create_secret(bytes_length: int = 1024) -> str:
    """A URL-safe random string made from ``bytes_length`` random bytes (for ``state`` and
    ``nonce``; seed API). The default makes a long string; 32 bytes are plenty."""
    return secrets.token_urlsafe(bytes_length)


def pkce_challenge(code_verifier: str) -> str:
    """``BASE64URL(SHA256(ascii(code_verifier)))`` without padding (RFC 7636 §4.2, S256)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)`` for PKCE S256 (RFC 7636 §4.1: 43-128
    characters from the unreserved set; 64 random bytes give 86)."""
    verifier = secrets.token_urlsafe(64)
    return verifier, pkce_challenge(verifier)
