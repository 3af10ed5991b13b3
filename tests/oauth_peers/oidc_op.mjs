// oidc-provider (a real, stateful OpenID Provider) configured like Google enough for
// aiogoogle's auth tests (docs/testing.md, "OAuth peers").
//
//   node oidc_op.mjs SA_PUBLIC_KEY.pem REDIRECT_URI
//
// Listens on 127.0.0.1 on an ephemeral port, prints `READY <port>`. Clients:
// * test-client / test-secret: confidential, client_secret_basic (oidc-provider's default);
// * installed-app: public (no secret), PKCE;
// * sa-client: public, only the jwt-bearer grant (registered here: oidc-provider has none).
// Login and consent are automatic for user "johndoe" (an interaction route that approves
// at once), refresh tokens are issued to clients allowed the refresh_token grant, and the
// id_token carries the email claims (conformIdTokenClaims: false), as Google's does.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';
import { generateKeyPair, exportJWK, importSPKI, jwtVerify } from 'jose';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const serviceAccountKey = process.argv[2] ? await importSPKI(readFileSync(process.argv[2], 'utf8'), 'RS256') : null;
const redirectUri = process.argv[3] ?? 'http://127.0.0.1:53682/callback';
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'op-key-1', alg: 'RS256', use: 'sig' };

let callback = (_req, res) => { res.writeHead(503); res.end(); };
let provider;

async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (prompt.name === 'login') {
      return await provider.interactionFinished(req, res, { login: { accountId: 'johndoe' } }, { mergeWithLastSubmission: false });
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(err));
  }
}

const server = createServer((req, res) => (/^\/interaction\/[^/?]+/.test(req.url ?? '') ? interaction(req, res) : callback(req, res)));
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, {
    clients: [
      { client_id: 'test-client', client_secret: 'test-secret', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
      { client_id: 'installed-app', application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
      { client_id: 'sa-client', token_endpoint_auth_method: 'none', redirect_uris: [], grant_types: [JWT_BEARER], response_types: [] },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['aiogoogle-test-cookie-key'] },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true }, userinfo: { enabled: true } },
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    ttl: { AccessToken: 3600, ClientCredentials: 3600, IdToken: 3600, RefreshToken: 86400, AuthorizationCode: 600, Interaction: 3600, Session: 86400, Grant: 86400 },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    extraParams: ['access_type', 'include_granted_scopes', 'login_hint', 'hd'],
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true, name: 'John Doe' }),
    }),
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
  });
  provider.registerGrantType(JWT_BEARER, async (ctx) => {
    const { assertion, scope } = ctx.oidc.params;
    let claims;
    try {
      if (!serviceAccountKey) throw new Error('no service account key configured');
      ({ payload: claims } = await jwtVerify(assertion, serviceAccountKey, { audience: `${issuer}/token`, algorithms: ['RS256'], maxTokenAge: '1h' }));
    } catch (err) {
      throw new errors.InvalidGrant(`invalid assertion (${err.code ?? err.message})`);
    }
    const token = new ctx.oidc.provider.ClientCredentials({ client: ctx.oidc.client, scope: scope ?? claims.scope ?? '' });
    const value = await token.save();
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  }, ['assertion', 'scope']);
  callback = provider.callback();
  process.stdout.write(`READY ${server.address().port}\n`);
});
