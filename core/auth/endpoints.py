"""Where the auth flows send their requests (docs/protocol.md §6.1, §6.6).

Every URL is injectable, so the same code talks to Google, to any OpenID Connect provider
(:meth:`Endpoints.from_openid_configuration`) and to local test servers
(:meth:`Endpoints.at`). The client holds one :class:`Endpoints` (``Aiogoogle(auth_endpoints=...)``)
shared by its managers; credentials that name their own ``token_uri`` (service account keys,
user credentials) are refreshed there instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..excs import AuthError

__all__ = ["GOOGLE", "Endpoints"]

_GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")


@dataclass(frozen=True)
class Endpoints:
    """The URLs of an OAuth2/OpenID Connect provider and of the metadata server.

    ``issuers`` are the accepted ``iss`` values of id_tokens (Google uses two spellings).
    ``metadata_host`` is ``host[:port]`` of the GCE metadata server; the environment
    variable ``GCE_METADATA_HOST`` overrides it (docs/protocol.md §6.6). ``metadata_scheme`` is
    ``http`` (the real server has no TLS).
    """

    issuer: str = "https://accounts.google.com"
    authorization: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token: str = "https://oauth2.googleapis.com/token"
    revocation: str = "https://oauth2.googleapis.com/revoke"
    userinfo: str = "https://openidconnect.googleapis.com/v1/userinfo"
    me_info: str = "https://www.googleapis.com/oauth2/v2/userinfo"
    tokeninfo: str = "https://oauth2.googleapis.com/tokeninfo"
    jwks: str = "https://www.googleapis.com/oauth2/v3/certs"
    openid_configuration: str = "https://accounts.google.com/.well-known/openid-configuration"
    metadata_host: str = "metadata.google.internal"
    metadata_scheme: str = "http"
    issuers: tuple[str, ...] = field(default=_GOOGLE_ISSUERS)

    def __post_init__(self) -> None:
        if self.issuer not in self.issuers:
            object.__setattr__(self, "issuers", (self.issuer, *self.issuers))

    @classmethod
    def from_openid_configuration(cls, config: Mapping[str, Any], **overrides: Any) -> Endpoints:
        """Endpoints from a provider's ``/.well-known/openid-configuration`` document.

        Fields the document lacks keep Google's values unless ``overrides`` sets them
        (e.g. ``tokeninfo``, which is Google-specific). Raises :class:`AuthError` when the
        document has no ``issuer``, ``authorization_endpoint`` or ``token_endpoint``.
        """
        missing = [k for k in ("issuer", "authorization_endpoint", "token_endpoint") if not isinstance(config.get(k), str)]
        if missing:
            raise AuthError(f"openid-configuration lacks {', '.join(missing)}")
        issuer = str(config["issuer"])
        values: dict[str, Any] = {
            "issuer": issuer,
            "issuers": (issuer,) if issuer not in _GOOGLE_ISSUERS else _GOOGLE_ISSUERS,
            "authorization": config["authorization_endpoint"],
            "token": config["token_endpoint"],
            "openid_configuration": issuer.rstrip("/") + "/.well-known/openid-configuration",
        }
        for key, name in (("revocation_endpoint", "revocation"), ("userinfo_endpoint", "userinfo"), ("jwks_uri", "jwks")):
            if isinstance(config.get(key), str):
                values[name] = config[key]
        if "userinfo" in values:
            values.setdefault("me_info", values["userinfo"])
        values.update(overrides)
        return replace(cls(), **values)

    @classmethod
    def at(cls, base_url: str) -> Endpoints:
        """Endpoints of :class:`aiogoogle.testing.LocalGoogleServer` (or any server that
        mirrors Google's paths under ``base_url``): ``{base}token``, ``{base}revoke``,
        ``{base}o/oauth2/v2/auth``, ``{base}oauth2/v3/certs``, ``{base}computeMetadata/...``.
        Its issuer is ``base_url`` without the trailing slash."""
        base = base_url if base_url.endswith("/") else base_url + "/"
        issuer = base.rstrip("/")
        host = base.split("://", 1)[1].rstrip("/")
        return cls(
            issuer=issuer,
            issuers=(issuer,),
            authorization=base + "o/oauth2/v2/auth",
            token=base + "token",
            revocation=base + "revoke",
            userinfo=base + "v1/userinfo",
            me_info=base + "oauth2/v2/userinfo",
            tokeninfo=base + "tokeninfo",
            jwks=base + "oauth2/v3/certs",
            openid_configuration=base + ".well-known/openid-configuration",
            metadata_host=host,
            metadata_scheme=base.split("://", 1)[0],
        )

    def metadata_root(self, host: str | None = None) -> str:
        """``{scheme}://{host}/computeMetadata/v1/`` (``host`` from ``GCE_METADATA_HOST``)."""
        return f"{self.metadata_scheme}://{host or self.metadata_host}/computeMetadata/v1/"


#: Google's production endpoints.
GOOGLE = Endpoints()
