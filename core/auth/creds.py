"""Credentials: plain dicts of JSON values with attribute access (seed ``aiogoogle.auth.creds``).

Every credential is a :class:`~aiogoogle.utils._dict`, so it can be stored with
``json.dumps``, copied and pickled as it is, and read as ``creds.access_token`` or
``creds["access_token"]`` (a missing key reads as ``None``).

Their ``repr`` (and ``str``, which ``print``, logging and f-strings use) never shows a
secret: access, refresh and id tokens, client secrets, private keys and API keys are masked
(docs/architecture.md, "Secrets and bad input"). Use ``dict(creds)`` or ``json.dumps(creds)`` to get the real values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..excs import is_secret_name
from ..utils import _dict

__all__ = ["ApiKey", "ClientCreds", "IdToken", "ServiceAccountCreds", "UserCreds", "redacted"]

# Fields that hold a secret although their name does not say "token"/"secret"/"key".
_ALSO_SECRET = frozenset({"id_token_jwt", "code_verifier", "assertion", "state", "nonce", "code"})


def _is_secret_field(name: str) -> bool:
    return name in _ALSO_SECRET or is_secret_name(name)


def redacted(value: Any, name: str = "") -> Any:
    """A copy of ``value`` safe to show: every secret field (at any depth) is ``'***'``."""
    if name and _is_secret_field(name) and value is not None:
        return "***"
    if isinstance(value, Mapping):
        return {k: redacted(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted(v) for v in value]
    return value


class _Creds(_dict):
    """Base of the credential dicts: a redacting ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redacted(dict(self))!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        # The constructors take named fields, not a dict: rebuild without calling them.
        return (_rebuild, (type(self), dict(self)))

    def __copy__(self) -> _Creds:
        return _rebuild(type(self), dict(self))


def _rebuild(cls: type[_Creds], data: dict[str, Any]) -> _Creds:
    obj = dict.__new__(cls)
    dict.update(obj, data)
    return obj


def _collect(values: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    out.update(extra)
    return out


class ApiKey(str):
    """An API key (a ``str``; docs/protocol.md §6.8). Its ``repr`` hides the value; ``str(key)``
    and formatting give the key itself, so it can be used wherever a string is expected."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ApiKey('***')"


class ClientCreds(_Creds):
    """OAuth2 client credentials: ``client_id``, ``client_secret``, ``scopes`` (a list) and
    ``redirect_uri`` (seed ``aiogoogle.auth.creds.ClientCreds``). Extra keys are kept."""

    __slots__ = ()

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Sequence[str] | None = None,
        redirect_uri: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(
            _collect(
                {"client_id": client_id, "client_secret": client_secret, "scopes": _scope_list(scopes), "redirect_uri": redirect_uri},
                extra,
            )
        )


class UserCreds(_Creds):
    """OAuth2 user credentials (seed ``aiogoogle.auth.creds.UserCreds``).

    ``access_token``, ``refresh_token``, ``expires_in`` (seconds, as issued),
    ``expires_at`` (ISO 8601 UTC, e.g. ``"2026-01-02T03:04:05Z"``; what refresh decisions
    use), ``scopes`` (list), ``id_token`` (the decoded :class:`IdToken`), ``id_token_jwt``
    (the encoded one), ``token_type``, ``token_uri`` (where to refresh it),
    ``token_info_uri``, ``revoke_uri``, ``refresh_token_expires_in`` (seconds the refresh
    token lives, when the token endpoint says so; RFC 6749 leaves it out, Google sends it for
    time-limited grants). Credentials loaded from an ``authorized_user`` file
    (gcloud's Application Default Credentials) also carry ``client_id``, ``client_secret``
    and possibly ``quota_project_id``.
    """

    __slots__ = ()

    def __init__(
        self,
        access_token: str | None = None,
        refresh_token: str | None = None,
        expires_in: int | None = None,
        expires_at: str | None = None,
        scopes: Sequence[str] | None = None,
        id_token: Mapping[str, Any] | None = None,
        id_token_jwt: str | None = None,
        token_type: str | None = None,
        token_uri: str | None = None,
        token_info_uri: str | None = None,
        revoke_uri: str | None = None,
        refresh_token_expires_in: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(
            _collect(
                {
                    "access_token": access_token,
                    "refresh_token": refresh_token,
                    "expires_in": expires_in,
                    "expires_at": expires_at,
                    "scopes": _scope_list(scopes),
                    "id_token": IdToken(id_token) if isinstance(id_token, Mapping) and not isinstance(id_token, IdToken) else id_token,
                    "id_token_jwt": id_token_jwt,
                    "token_type": token_type,
                    "token_uri": token_uri,
                    "token_info_uri": token_info_uri,
                    "revoke_uri": revoke_uri,
                    "refresh_token_expires_in": refresh_token_expires_in,
                },
                extra,
            )
        )


class ServiceAccountCreds(_Creds):
    """A service account key as downloaded from the Cloud console (``type``,
    ``project_id``, ``private_key_id``, ``private_key``, ``client_email``, ``client_id``,
    ``auth_uri``, ``token_uri``, ...), plus ``subject`` (domain-wide delegation: the user
    to act as), ``scopes`` and ``additional_claims`` for the JWT assertion (default ``{}``)
    and ``universe_domain`` (default ``"googleapis.com"``, as in key files) (seed
    ``aiogoogle.auth.creds.ServiceAccountCreds``)."""

    __slots__ = ()

    def __init__(
        self,
        type: str | None = None,
        project_id: str | None = None,
        private_key_id: str | None = None,
        private_key: str | None = None,
        client_email: str | None = None,
        client_id: str | None = None,
        auth_uri: str | None = None,
        token_uri: str | None = None,
        auth_provider_x509_cert_url: str | None = None,
        client_x509_cert_url: str | None = None,
        subject: str | None = None,
        scopes: Sequence[str] | None = None,
        additional_claims: Mapping[str, Any] | None = None,
        universe_domain: str = "googleapis.com",
        **extra: Any,
    ) -> None:
        super().__init__(
            _collect(
                {
                    "type": type,
                    "project_id": project_id,
                    "private_key_id": private_key_id,
                    "private_key": private_key,
                    "client_email": client_email,
                    "client_id": client_id,
                    "auth_uri": auth_uri,
                    "token_uri": token_uri,
                    "auth_provider_x509_cert_url": auth_provider_x509_cert_url,
                    "client_x509_cert_url": client_x509_cert_url,
                    "subject": subject,
                    "scopes": _scope_list(scopes),
                    "additional_claims": dict(additional_claims) if additional_claims is not None else {},
                    "universe_domain": universe_domain,
                },
                extra,
            )
        )


class IdToken(_Creds):
    """The decoded claims of an OpenID Connect id_token (``iss``, ``sub``, ``aud``, ``exp``,
    ``iat``, ``email``, ``email_verified``, ``hd``, ``nonce``, ...)."""

    __slots__ = ()

    def __repr__(self) -> str:
        # Claims identify the user but are not credentials; the nonce is.
        return f"IdToken({redacted(dict(self))!r})"

    __str__ = __repr__


def _scope_list(scopes: Sequence[str] | str | None) -> list[str] | None:
    if scopes is None:
        return None
    if isinstance(scopes, str):
        return scopes.split()
    return list(scopes)
