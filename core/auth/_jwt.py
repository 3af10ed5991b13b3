"""JWTs: RS256 signing (service-account assertions, self-signed JWTs) and id_token checks.

pyjwt does the cryptography. It is imported on first use, not at module import: its
package ``__init__`` also loads ``PyJWKClient`` and with it ``urllib.request``, ``ssl`` and
``socket``, which the core must not pull in just by being imported (tests/test_core_is_pure.py).
We never use pyjwt's own HTTP client; keys come in as JWKS documents fetched by our flows.

Every id_token check (PROTOCOL.md §6.4) runs against a clock passed in, and every failure
is an :class:`~aiogoogle.excs.AuthError` whose message names the failed check in
parentheses, e.g. ``id_token rejected (aud): ...``; the token itself is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..excs import AuthError

__all__ = ["UnknownKeyError", "jwks_keys", "sign_rs256", "validate_id_token"]

_KEY_CACHE: dict[str, Any] = {}
_KEY_CACHE_MAX = 32


class UnknownKeyError(AuthError):
    """The token names a key id that is not in the JWKS (the caller may re-fetch it once)."""


def _reject(check: str, detail: str) -> AuthError:
    return AuthError(f"id_token rejected ({check}): {detail}")


def _private_key(pem: str) -> Any:
    """The loaded RSA key for a PEM string (loading costs about a millisecond; cached)."""
    key = _KEY_CACHE.get(pem)
    if key is None:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise AuthError(f"the service account private_key is not a usable PEM RSA key ({type(exc).__name__})") from None
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.pop(next(iter(_KEY_CACHE)))
        _KEY_CACHE[pem] = key
    return key


def sign_rs256(claims: Mapping[str, Any], private_key_pem: str, key_id: str | None = None) -> str:
    """``claims`` signed as a compact RS256 JWS (RSASSA-PKCS1-v1_5 SHA-256, PROTOCOL.md §6.5)."""
    import jwt

    headers = {"typ": "JWT", "alg": "RS256"}
    if key_id:
        headers["kid"] = key_id
    return jwt.encode(dict(claims), _private_key(private_key_pem), algorithm="RS256", headers=headers)


def jwks_keys(document: Any) -> dict[str | None, Any]:
    """The usable RSA signing keys of a JWKS document, by ``kid``.

    Keys of other types or algorithms are skipped (an id_token can only be RS256 here), so
    a provider that also publishes EC or encryption keys still works.
    """
    import jwt

    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise AuthError("the JWKS document has no 'keys' list")
    keys: dict[str | None, Any] = {}
    for entry in document["keys"]:
        if not isinstance(entry, Mapping) or entry.get("kty") != "RSA":
            continue
        if entry.get("use") not in (None, "sig") or entry.get("alg") not in (None, "RS256"):
            continue
        try:
            keys[entry.get("kid")] = jwt.PyJWK(dict(entry), algorithm="RS256").key
        except jwt.PyJWTError:
            continue
    return keys


def _b64_json(segment: str) -> Any:
    import base64

    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking anything (``verify=False`` paths only)."""
    try:
        claims = _b64_json(token.split(".")[1])
    except (ValueError, IndexError, UnicodeError):
        raise _reject("format", "not a JWT (three base64url segments)") from None
    if not isinstance(claims, dict):
        raise _reject("format", "the payload is not a JSON object")
    return claims


def validate_id_token(
    token: str,
    keys: Mapping[str | None, Any],
    *,
    now: float,
    client_ids: Sequence[str] | None,
    issuers: Sequence[str],
    nonce: str | None = None,
    hd: str | None = None,
    skew: float = 0.0,
) -> dict[str, Any]:
    """Verify an OpenID Connect id_token and return its claims (PROTOCOL.md §6.4).

    Checks, in order: the format; ``alg`` is RS256 (``none`` and HMAC are refused, so a
    token "signed" with the public key as an HS256 secret never passes); the key is in
    ``keys`` by ``kid`` (:class:`UnknownKeyError` otherwise); the signature; ``iss`` is one
    of ``issuers``; ``aud`` (a string or a list) contains one of ``client_ids``; ``azp``,
    when present, is one of ``client_ids``; ``exp`` and ``iat`` against ``now`` with
    ``skew`` seconds of tolerance (``iat - skew <= now <= exp + skew``); ``nonce`` and
    ``hd`` when expected.
    """
    import jwt

    if not isinstance(token, str) or token.count(".") != 2:
        raise _reject("format", "not a compact JWT (header.payload.signature)")
    try:
        header = _b64_json(token.split(".", 1)[0])
    except (ValueError, UnicodeError):
        raise _reject("format", "the header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise _reject("format", "the header is not a JSON object")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise _reject("alg", "unsigned tokens (alg 'none') are not accepted")
    if alg.upper().startswith("HS"):
        raise _reject("alg", f"HMAC-signed tokens ({alg}) are not accepted; id_tokens must be signed with the provider's RSA key")
    if alg != "RS256":
        raise _reject("alg", f"algorithm {alg!r} is not accepted (only RS256)")
    kid = header.get("kid")
    key = keys.get(kid) if kid is not None else (next(iter(keys.values())) if len(keys) == 1 else None)
    if key is None:
        raise UnknownKeyError(f"id_token rejected (kid): signed with key id {kid!r}, which is not in the provider's JWKS")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
                "require": [],
            },
        )
    except jwt.InvalidSignatureError:
        raise _reject("signature", "the signature does not verify with the provider's key") from None
    except jwt.PyJWTError as exc:
        raise _reject("format", f"cannot be decoded ({type(exc).__name__})") from None
    if not isinstance(claims, dict):
        raise _reject("format", "the payload is not a JSON object")
    iss = claims.get("iss")
    if iss not in issuers:
        raise _reject("iss", f"issuer {iss!r} is not one of {list(issuers)!r}")
    if client_ids:
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else (aud if isinstance(aud, list) else [])
        if not any(a in client_ids for a in auds):
            raise _reject("aud", f"audience {aud!r} does not include the client id {client_ids[0]!r}")
        azp = claims.get("azp")
        if azp is not None and azp not in client_ids:
            raise _reject("azp", f"authorized party {azp!r} is not the client id {client_ids[0]!r}")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise _reject("exp", "the token has no numeric 'exp' claim")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool):
        raise _reject("iat", "the token has no numeric 'iat' claim")
    if now > exp + skew:
        raise _reject("exp", f"the token expired {int(now - exp)} s ago (allowed clock skew {skew:g} s)")
    if iat - skew > now:
        raise _reject("iat", f"the token was issued {int(iat - now)} s in the future (allowed clock skew {skew:g} s)")
    if nonce is not None:
        got = claims.get("nonce")
        if got is None:
            raise _reject("nonce", "a nonce was sent but the token carries none")
        if got != nonce:
            raise _reject("nonce", "the token's nonce does not match the one sent")
    if hd is not None:
        got_hd = claims.get("hd")
        if got_hd is None:
            raise _reject("hd", f"hosted domain {hd!r} is required but the token has no 'hd' claim")
        if got_hd != hd:
            raise _reject("hd", f"hosted domain {got_hd!r} is not {hd!r}")
    return claims
