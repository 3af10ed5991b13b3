"""How the client authorises its requests: token lifecycle, single flight, 401 recovery.

The client asks :class:`ClientAuth` for an *authorizer* per call (``user``,
``service_account``, ``api_key``); the driver calls it for every
:class:`~aiogoogle._effects.Authorize` effect with the token a 401 was just received with
(``stale``) or ``None``. An authorizer:

* refreshes **proactively**: credentials within ``refresh_margin`` seconds of their expiry
  (default 225 s, google-auth's threshold) are refreshed before use;
* refreshes **once per credential** however many calls need it at the same time (single
  flight, docs/protocol.md §4.1): a per-credential lock from the session (``session.lock()``),
  and a re-check after acquiring it, so 100 concurrent calls with an expired token make one
  token request and then all use the new token;
* after a 401 (``stale`` is still the credential's token) refreshes once and lets
  :func:`~aiogoogle._call.send_flow` retry; a token that was already replaced by another
  call is simply reused;
* stores refreshed user credentials **in place** (the dict given to ``Aiogoogle(user_creds=...)``
  or to ``as_user(..., user_creds=...)`` is updated, so the caller's object stays current) and
  reports them to ``Aiogoogle(on_refresh=...)`` (sync or async; called with the
  :class:`~aiogoogle.auth.creds.UserCreds`; for service accounts with a ``UserCreds`` holding
  the new ``access_token``/``expires_at``);
* adds ``x-goog-user-project`` from the credentials' ``quota_project_id`` or
  ``GOOGLE_CLOUD_QUOTA_PROJECT`` (docs/protocol.md §6.8).

The environment (for ADC and the quota project) is never read here: it comes from the
service account manager's ``environ`` (by default a snapshot the adapter layer takes).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .._driver import Driver
from .._effects import AuthInfo, Flow
from .._http import DEFAULT_MAX_RESPONSE_SIZE
from ..excs import AuthError
from . import _flows as flows
from .creds import ApiKey, UserCreds
from .endpoints import Endpoints
from .managers import (
    ApiKeyManager,
    Oauth2Manager,
    OpenIdConnectManager,
    ServiceAccountManager,
    wall_clock,
)

__all__ = ["ClientAuth"]

Authorizer = Callable[[str | None], Awaitable[AuthInfo]]
_MAX_SLOTS = 256


class _Slot:
    """Per-credential state: its lock (made by the session in use) and, for service
    accounts, the cached access token."""

    __slots__ = ("lock", "lock_session", "owner", "token")

    def __init__(self, owner: Any) -> None:
        self.owner = owner  # keeps the credential alive while its id() is the key
        self.lock: Any = None
        self.lock_session: Any = None
        self.token: flows.AccessToken | None = None

    def lock_for(self, session: Any) -> Any:
        if self.lock is None or self.lock_session is not session:
            self.lock, self.lock_session = session.lock(), session
        return self.lock


class ClientAuth:
    """The credentials machinery of one :class:`~aiogoogle.Aiogoogle` (see the module doc).

    ``client.oauth2``, ``client.openid_connect``, ``client.service_account_manager`` and
    ``client.api_key_manager`` are created here and share the client's session, options
    and :attr:`endpoints`.
    """

    def __init__(
        self,
        client: Any,
        *,
        refresh_margin: float | None = None,
        endpoints: Endpoints | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.endpoints = endpoints or Endpoints()
        self.refresh_margin = flows.DEFAULT_REFRESH_MARGIN if refresh_margin is None else float(refresh_margin)
        self.clock = clock or wall_clock
        factory = getattr(client, "session_factory", None)
        self.oauth2 = Oauth2Manager(factory, client=client, clock=self.clock)
        self.openid_connect = OpenIdConnectManager(factory, client=client, clock=self.clock)
        self.service_account_manager = ServiceAccountManager(factory, client=client, clock=self.clock, refresh_margin=self.refresh_margin)
        self.api_key_manager = ApiKeyManager(getattr(client, "api_key", None))
        self._slots: dict[Any, _Slot] = {}
        self._quota_env: str | None = None
        self._quota_source: Any = self  # the environ setting the cached value came from

    # ------------------------------------------------------------------ plumbing

    def _slot(self, key: Any, owner: Any) -> _Slot:
        slot = self._slots.get(key)
        if slot is None or slot.owner is not owner:
            if len(self._slots) >= _MAX_SLOTS:
                for old in list(self._slots)[: _MAX_SLOTS // 4]:
                    if self._slots[old].lock_session is None or not _locked(self._slots[old].lock):
                        del self._slots[old]
            slot = self._slots[key] = _Slot(owner)
        return slot

    async def _run(self, session: Any, flow: Flow[Any]) -> Any:
        options = getattr(self.client, "options", None)
        limit = options.max_response_size if options is not None else DEFAULT_MAX_RESPONSE_SIZE
        return await Driver(session, clock=self.clock, max_response_size=limit).run(flow)

    async def _report(self, creds: Any) -> None:
        callback = getattr(self.client, "on_refresh", None)
        if callback is None:
            return
        result = callback(creds)
        if inspect.isawaitable(result):
            await result

    def _quota_project(self, creds: Mapping[str, Any] | None) -> str | None:
        if creds and creds.get("quota_project_id"):
            return str(creds["quota_project_id"])
        source = self.service_account_manager.environ
        if self._quota_source is not source:
            # Read once per environment setting, not per request.
            try:
                env = self.service_account_manager.environment()
            except ImportError:  # the adapters package is not installed: no environment
                env = {}
            self._quota_env = env.get("GOOGLE_CLOUD_QUOTA_PROJECT") or None
            self._quota_source = source
        return self._quota_env

    def _bearer(self, token: str, creds: Mapping[str, Any] | None, quota: str | None = None) -> AuthInfo:
        headers: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),)
        project = quota or self._quota_project(creds)
        if project:
            headers += (("x-goog-user-project", project),)
        return AuthInfo(headers=headers, token=token)

    def forget_service_account_tokens(self) -> None:
        """Drop cached service-account tokens (after the credentials source changed)."""
        for slot in self._slots.values():
            slot.token = None

    # ------------------------------------------------------------------ users

    def user(self, creds: Mapping[str, Any] | None = None) -> Authorizer:
        """The authorizer for user credentials (per call, or the client's)."""
        explicit = creds

        async def authorize(stale: str | None) -> AuthInfo:
            current = explicit if explicit is not None else self.client.user_creds
            if not current:
                raise AuthError("no user credentials: pass user_creds to Aiogoogle or to as_user()")
            return await self._user_token(current, stale)

        return authorize

    def _needs_refresh(self, creds: Mapping[str, Any], stale: str | None, now: float) -> bool:
        if stale is not None and creds.get("access_token") == stale:
            return True
        return flows.is_expired(creds, now, self.refresh_margin)

    async def _user_token(self, creds: Mapping[str, Any], stale: str | None) -> AuthInfo:
        if self._needs_refresh(creds, stale, self.clock()):
            async with self.client._temporary_session() as session:
                slot = self._slot(id(creds), creds)
                async with slot.lock_for(session):
                    # Re-check under the lock: another call may have refreshed meanwhile.
                    if self._needs_refresh(creds, stale, self.clock()):
                        await self._refresh_user(session, creds)
        token = creds.get("access_token")
        if not token:
            raise AuthError("the user credentials have no access_token and cannot be refreshed")
        return self._bearer(str(token), creds)

    async def _refresh_user(self, session: Any, creds: Mapping[str, Any]) -> None:
        client_creds = self.client.client_creds
        if not creds.get("refresh_token") or not (creds.get("client_id") or (client_creds and client_creds.get("client_id"))):
            # Not refreshable: use the token as it is (a 401 then surfaces as AuthError).
            return
        fresh = await self._run(session, flows.refresh_flow(creds, client_creds, self.endpoints, self.client.options))
        if isinstance(creds, dict):
            creds.update(fresh)
        else:  # a read-only mapping: keep the new credentials on the client instead
            self.client.user_creds = fresh
        await self._report(creds if isinstance(creds, dict) else fresh)

    # ------------------------------------------------------------------ service accounts

    def service_account(self, creds: Mapping[str, Any] | None = None) -> Authorizer:
        """The authorizer for a service account: the per-call ``creds``, else the client's
        ``service_account_creds``, else Application Default Credentials (detected on first
        use when :meth:`ServiceAccountManager.detect_default_creds_source` was not called)."""
        explicit = creds
        manager = self.service_account_manager

        async def authorize(stale: str | None) -> AuthInfo:
            current = explicit if explicit is not None else self.client.service_account_creds
            given = flows.source_for_creds(current)
            if given is not None and given.user_creds is not None:
                return await self._user_token(given.user_creds, stale)
            usable = given is not None
            if not usable and manager.default_creds is None:
                async with self.client._temporary_session() as session, self._slot("adc", manager).lock_for(session):
                    if manager.default_creds is None:
                        await manager.detect_default_creds_source()
                current = explicit if explicit is not None else self.client.service_account_creds
                usable = bool(current and current.get("private_key"))
            found = manager.default_creds
            detected = found.token_source if found is not None and not usable else None
            if detected is not None and detected.user_creds is not None:
                # Refreshable user credentials are refreshed in place and reported whole.
                return await self._user_token(detected.user_creds, stale)
            owner: Any = current if usable else found
            # Detected credentials serve every call, each with the scopes it asks for: one
            # token per scope set (a token for other scopes would be refused or too broad).
            scopes = () if usable or not current else tuple(current.get("scopes") or ())
            slot = self._slot((id(owner), scopes), owner)
            quota = (current or {}).get("quota_project_id") or (found.quota_project_id if found is not None and not usable else None)
            if self._token_stale(slot, stale):
                async with self.client._temporary_session() as session, slot.lock_for(session):
                    if self._token_stale(slot, stale):
                        slot.token = await self._run(session, manager.token_flow(current if usable else _scopes_only(current)))
                        await self._report(UserCreds(access_token=slot.token.token, expires_at=_iso(slot.token.expires_at), token_type="Bearer"))
            assert slot.token is not None
            return self._bearer(slot.token.token, current, quota)

        return authorize

    def id_token(self, audience: str, creds: Mapping[str, Any] | None = None) -> Authorizer:
        """The authorizer sending an ID token for ``audience`` (a private Cloud Run service,
        a Cloud Function, an IAP-protected app) from the service account credentials in use
        (``creds``, else the client's ``service_account_creds``, else Application Default
        Credentials). Tokens are kept per credential and audience and replaced before they
        expire, once for all concurrent calls, and once after a 401."""
        from ._idtoken import id_token_flow

        explicit = creds
        manager = self.service_account_manager

        async def authorize(stale: str | None) -> AuthInfo:
            current = explicit if explicit is not None else self.client.service_account_creds
            source = flows.source_for_creds(current)
            given = source
            if source is None:
                if manager.default_creds is None:
                    async with self.client._temporary_session() as session, self._slot("adc", manager).lock_for(session):
                        if manager.default_creds is None:
                            await manager.detect_default_creds_source()
                found = manager.default_creds
                source = found.token_source if found is not None else None
                if source is None:
                    raise AuthError("no credentials to mint an ID token with: pass service_account_creds or set up Application Default Credentials")
            # A source built from a credentials dict is new on every call: key its slot by
            # the dict, so its tokens are reused.
            owner: Any = current if given is not None else source
            slot = self._slot(("id_token", id(owner), audience), owner)
            if self._token_stale(slot, stale):
                async with self.client._temporary_session() as session, slot.lock_for(session):
                    if self._token_stale(slot, stale):
                        slot.token = await self._run(session, id_token_flow(source, audience, self.endpoints, self.client.options))
            assert slot.token is not None
            return AuthInfo(headers=(("authorization", f"Bearer {slot.token.token}"),), token=slot.token.token)

        return authorize

    def _token_stale(self, slot: _Slot, stale: str | None) -> bool:
        token = slot.token
        if token is None:
            return True
        if stale is not None and token.token == stale:
            return True
        return token.expires_at is not None and self.clock() + self.refresh_margin >= token.expires_at

    # ------------------------------------------------------------------ API keys

    def api_key(self, key: str | None = None) -> Authorizer:
        """The authorizer for an API key: ``key=`` in the query (encoded), or the
        ``X-Goog-Api-Key`` header when ``client.api_key_manager.header`` is true."""
        value = key if key is not None else self.client.api_key
        if not value:
            raise AuthError("no API key: pass api_key to Aiogoogle or to as_api_key()")
        secret = str(ApiKey(value))
        manager = self.api_key_manager

        # Built once per call, not per request (AuthInfo is immutable).
        in_header = AuthInfo(headers=(("x-goog-api-key", secret),))
        in_query = AuthInfo(query=(("key", secret),))

        async def authorize(stale: str | None) -> AuthInfo:
            return in_header if manager.header else in_query

        return authorize


def _scopes_only(creds: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Credentials without a key contribute only their scopes (to the detected default)."""
    if not creds:
        return None
    return {"scopes": creds.get("scopes")} if creds.get("scopes") else None


def _iso(ts: float | None) -> str | None:
    return flows.to_iso(ts) if ts is not None else None


def _locked(lock: Any) -> bool:
    probe = getattr(lock, "locked", None)
    return bool(probe()) if callable(probe) else True
