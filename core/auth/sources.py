"""Token sources: one interface for every way the client obtains an access token.

A :class:`TokenSource` is one way of getting a bearer token: a user's refresh token, a
service account key, the metadata server, service account impersonation, and whatever is
added later (workload identity federation, device flow, ...). It answers one question,
:meth:`TokenSource.token_flow`: *a fresh token for these scopes or this audience*. That
method is a pure flow (it yields effects, :mod:`aiogoogle._effects`, and does no I/O);
the client runs it the first time a token is needed and again whenever the token is about
to expire or a 401 says it stopped working. Getting a token and refreshing it are the same
operation, so there is no separate ``refresh`` to implement. The client caches the result
per source and :class:`TokenRequest`, holds one lock per source so concurrent calls
refresh once, and applies the token as ``Authorization: Bearer``.

How to add a source (about three files):

1. a new module under ``aiogoogle/auth/`` with a subclass of :class:`TokenSource`: set
   :attr:`~TokenSource.kind`, implement :meth:`~TokenSource.token_flow` (send its requests
   with :func:`aiogoogle.auth._tokens.exchange_flow`, so retries, redirects and error
   messages behave as for every other source; read the clock through ``Now``, files
   through ``FileOp``), and, if it is read from a credentials JSON file, a ``from_info``
   classmethod ``(info, where, endpoints) -> TokenSource`` that raises
   :class:`~aiogoogle.excs.AuthError` naming ``where`` and the field for a bad file;
2. if it comes from a credentials file (``"type": "..."``, as found by Application
   Default Credentials and ``aiogoogle call --creds``), one line in
   :data:`aiogoogle.auth._adc.FILE_TYPES`;
3. a test that drives ``token_flow`` with ``tests.flowtools.FlowRunner``.

Sources never show a secret in their ``repr``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..excs import AuthError

if TYPE_CHECKING:
    from .._effects import Flow
    from .._send import CallOptions
    from .endpoints import Endpoints

__all__ = ["AccessToken", "TokenRequest", "TokenSource"]


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and its expiry (UNIX time; ``None`` if unknown). Never shows the token."""

    token: str
    expires_at: float | None

    def __repr__(self) -> str:
        return f"AccessToken(token='***', expires_at={self.expires_at!r})"


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What a token is for: OAuth2 ``scopes`` (``None``: the source's own), or an
    ``audience`` (a token for one service or an ID token for one receiver). A source that
    cannot honour an audience raises :class:`~aiogoogle.excs.AuthError` saying so."""

    scopes: tuple[str, ...] | None = None
    audience: str | None = None




class TokenSource(abc.ABC):
    """One way of obtaining access tokens (see the module docstring)."""

    #: A short name for messages (``"service_account"``, ``"metadata"``, ...); for sources
    #: read from a credentials file, the file's ``"type"``.
    kind: ClassVar[str]

    #: The user credentials this source refreshes, updated in place after each refresh
    #: (``None`` for sources without them). The client reports them to ``on_refresh``.
    user_creds: Mapping[str, Any] | None = None

    @abc.abstractmethod
    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        """A flow returning a fresh :class:`AccessToken` for ``wanted`` (see the module
        docstring). ``endpoints`` are the client's provider URLs (credentials that name
        their own ``token_uri`` go there instead); ``options`` its call options."""

    def refuse_audience(self, wanted: TokenRequest) -> None:
        """Raise :class:`AuthError` when ``wanted`` names an audience (for sources that
        issue scoped access tokens only)."""
        if wanted.audience is not None:
            raise AuthError(f"{self.kind} credentials cannot issue a token for an audience ({wanted.audience!r}); ask for scopes instead")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}>"
