"""JWTs: RS256 signing (service-account assertions, self-signed JWTs) and id_token checks.

pyjwt does the cryptography. It is imported on first use, not at module import: its
package ``__init__`` also loads ``PyJWKClient`` and with it ``urllib.request``, ``ssl`` and
``socket``, which the core must not pull in just by being imported (tests/test_core_is_pure.py).
We never use pyjwt's own HTTP client; keys come in as JWKS documents fetched by our flows.

Every id_token check (docs/protocol.md §6.4) runs against a clock passed in, and every failure
is an :class:`~aiogoogle.excs.AuthError` whose message names the failed check in
parentheses, e.g. ``id_token rejected (aud): ...``; the token itself is never shown, and
values taken from it are shown shortened. JSON nested too deeply for the parser is a
``format`` rejection, not a RecursionError; the ``NaN``/``Infinity`` that Python's parser
reads are refused where they matter (the time claims, which must be finite numbers).
"""

from __future__ import annotations

import json
import math
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


def _shown(value: Any) -> str:
    """A value from the token for a message: short, whatever the token holds."""
    if isinstance(value, (str, int, float)) or value is None:
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge number"
        return text if len(text) <= 80 else text[:77] + "..."
    return f"a JSON {'array' if isinstance(value, list) else 'object' if isinstance(value, dict) else type(value).__name__}"


def _seconds(value: float) -> str:
    return f"{value:.0f}" if abs(value) < 1e12 else f"{value:.3g}"


def _json(data: bytes, what: str) -> Any:
    """``data`` parsed as JSON; anything else, and too deep nesting, is a format error."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeError):
        raise _reject("format", f"the {what} is not JSON") from None
    except RecursionError:
        raise _reject("format", f"the {what} nests JSON too deeply") from None


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
    """``claims`` signed as a compact RS256 JWS (RSASSA-PKCS1-v1_5 SHA-256, docs/protocol.md §6.5)."""
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
        if entry.get("kid") is not None and not isinstance(entry.get("kid"), str):
            continue  # RFC 7517 §4.5: kid is a string; no token can name another one
        if entry.get("use") not in (None, "sig") or entry.get("alg") not in (None, "RS256"):
            continue
        try:
            keys[entry.get("kid")] = jwt.PyJWK(dict(entry), algorithm="RS256").key
        except jwt.PyJWTError:
            continue
    return keys


def _b64_json(segment: str, what: str) -> Any:
    import base64
    import binascii

    padded = segment + "=" * (-len(segment) % 4)
    try:
        data = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeError):
        raise _reject("format", f"the {what} is not base64url") from None
    return _json(data, what)


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking anything (``verify=False`` paths only)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise _reject("format", "not a JWT (three base64url segments)")
    claims = _b64_json(token.split(".")[1], "payload")
    if not isinstance(claims, dict):
        raise _reject("format", "the payload is not a JSON object")
    return claims


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519 §2: a JSON number of seconds), or ``None`` when absent.
    Booleans, strings, null, NaN, infinities and numbers beyond a float are refused: a NaN
    or infinite ``exp`` would never expire."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _reject(name, f"the {name!r} claim is {_shown(value)}, not a number of seconds (RFC 7519 §2 NumericDate)")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds):
        raise _reject(name, f"the {name!r} claim is not a finite number")
    return seconds


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
    """Verify an OpenID Connect id_token and return its claims (docs/protocol.md §6.4).

    Checks, in order: the format; ``alg`` is RS256 (``none`` and HMAC are refused, so a
    token "signed" with the public key as an HS256 secret never passes); ``kid``, when
    present, is a string naming a key in ``keys`` (:class:`UnknownKeyError` otherwise); the
    signature; ``iss`` is one of ``issuers``; ``aud`` (a string or a list) contains one of
    ``client_ids``; ``azp``, when present, is one of ``client_ids``; ``exp``, ``iat`` and
    (when present) ``nbf`` are finite numbers (RFC 7519 §4.1.4-§4.1.6), checked against
    ``now`` with ``skew`` seconds of tolerance (``iat - skew <= now``, ``nbf - skew <= now``,
    ``now <= exp + skew``); ``nonce`` and ``hd`` when expected.
    """
    import jwt

    if not isinstance(skew, (int, float)) or not math.isfinite(skew) or skew < 0:
        raise AuthError(f"the allowed clock skew must be a finite number of seconds >= 0, not {skew!r}")
    if not isinstance(token, str) or token.count(".") != 2:
        raise _reject("format", "not a compact JWT (header.payload.signature)")
    header = _b64_json(token.split(".", 1)[0], "header")
    if not isinstance(header, dict):
        raise _reject("format", "the header is not a JSON object")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise _reject("alg", "unsigned tokens (alg 'none') are not accepted")
    if alg.upper().startswith("HS"):
        raise _reject("alg", f"HMAC-signed tokens ({_shown(alg)}) are not accepted; id_tokens must be signed with the provider's RSA key")
    if alg != "RS256":
        raise _reject("alg", f"algorithm {_shown(alg)} is not accepted (only RS256)")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _reject("kid", f"the header's key id is {_shown(kid)}, not a string (RFC 7515 §4.1.4)")
    key = keys.get(kid) if kid is not None else (next(iter(keys.values())) if len(keys) == 1 else None)
    if key is None:
        raise UnknownKeyError(f"id_token rejected (kid): signed with key id {_shown(kid)}, which is not in the provider's JWKS")
    try:
        # PyJWS checks the signature only; the payload is parsed below, strictly.
        signed = jwt.PyJWS().decode_complete(token, key, algorithms=["RS256"])
    except jwt.InvalidSignatureError:
        raise _reject("signature", "the signature does not verify with the provider's key") from None
    except jwt.PyJWTError as exc:
        raise _reject("format", f"cannot be decoded ({type(exc).__name__})") from None
    except RecursionError:
        raise _reject("format", "the header nests JSON too deeply") from None
    claims = _json(signed["payload"], "payload")
    if not isinstance(claims, dict):
        raise _reject("format", "the payload is not a JSON object")
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss not in issuers:
        raise _reject("iss", f"issuer {_shown(iss)} is not one of {list(issuers)!r}")
    if client_ids:
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else (aud if isinstance(aud, list) else [])
        if not any(isinstance(a, str) and a in client_ids for a in auds):
            raise _reject("aud", f"audience {_shown(aud)} does not include the client id {client_ids[0]!r}")
        azp = claims.get("azp")
        if azp is not None and (not isinstance(azp, str) or azp not in client_ids):
            raise _reject("azp", f"authorized party {_shown(azp)} is not the client id {client_ids[0]!r}")
    exp, iat, nbf = (_numeric_date(claims, name) for name in ("exp", "iat", "nbf"))
    if exp is None:
        raise _reject("exp", "the token has no numeric 'exp' claim")
    if iat is None:
        raise _reject("iat", "the token has no numeric 'iat' claim")
    if now > exp + skew:
        raise _reject("exp", f"the token expired {_seconds(now - exp)} s ago (allowed clock skew {skew:g} s)")
    if iat - skew > now:
        raise _reject("iat", f"the token was issued {_seconds(iat - now)} s in the future (allowed clock skew {skew:g} s)")
    # RFC 7519 §4.1.5: not to be accepted before nbf, with the same leeway as iat.
    if nbf is not None and nbf - skew > now:
        raise _reject("nbf", f"the token is not valid for another {_seconds(nbf - now)} s (allowed clock skew {skew:g} s)")
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
            raise _reject("hd", f"hosted domain {_shown(got_hd)} is not {hd!r}")
    return claims
