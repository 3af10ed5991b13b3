// oauth2-mock-server dressed up as Google's OAuth endpoints, for aiogoogle's auth tests.
//
//   node mock_google.mjs SA_PUBLIC_KEY.pem
//
// Listens on 127.0.0.1 on an ephemeral port and prints one line `READY <port>` when it
// accepts connections. Differences from the stock mock (docs/testing.md, "OAuth peers"):
// * the issuer is http://127.0.0.1:<port> (the stock CLI says localhost, which may be ::1);
// * id_tokens carry email, email_verified and hd, as Google's do;
// * client_credentials tokens carry sub (workload:<client_id>), as a CI system's identity
//   token does (the subject token of workload identity federation);
// * revoked refresh tokens are remembered: refreshing one answers 400 invalid_grant;
// * the jwt-bearer grant is answered Google-style here: the assertion must verify with the
//   service account's public key (RS256, aud = this token URL, at most 1 h) and `sub` is
//   optional (the stock mock insists on it and checks no signature).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { OAuth2Issuer, OAuth2Service, Events } from 'oauth2-mock-server';
import { importSPKI, jwtVerify } from 'jose';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const serviceAccountKey = process.argv[2] ? await importSPKI(readFileSync(process.argv[2], 'utf8'), 'RS256') : null;
const issuer = new OAuth2Issuer();
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);
const revoked = new Set();

service.on(Events.BeforeTokenSigning, (token, req) => {
  if (req.body && req.body.grant_type === 'client_credentials') {
    // A workload's identity token (as a CI system issues one): the subject names the
    // workload, for the workload identity federation tests.
    token.payload.sub = `workload:${req.body.client_id ?? 'ci'}`;
  }
  if (req.body && req.body.grant_type !== JWT_BEARER) {
    token.payload.email = 'johndoe@example.com';
    token.payload.email_verified = true;
    token.payload.hd = 'example.com';
  }
});
service.on(Events.BeforeResponse, (response, req) => {
  if (req.body.grant_type === 'refresh_token' && revoked.has(req.body.refresh_token)) {
    response.statusCode = 400;
    response.body = { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' };
  }
});

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function jwtBearer(form, res) {
  const tokenUrl = `${issuer.url}/token`;
  let claims;
  try {
    if (!serviceAccountKey) throw new Error('no service account key configured');
    ({ payload: claims } = await jwtVerify(form.get('assertion') ?? '', serviceAccountKey, {
      audience: tokenUrl, algorithms: ['RS256'], maxTokenAge: '1h',
    }));
  } catch (err) {
    return json(res, 400, { error: 'invalid_grant', error_description: `Invalid JWT: ${err.code ?? err.message}` });
  }
  const accessToken = await issuer.buildToken({
    expiresIn: 3600,
    scopesOrTransform: (_header, payload) => { payload.sub = claims.sub ?? claims.iss; payload.scope = claims.scope; },
  });
  return json(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
}

const handler = service.requestHandler;
const server = createServer(async (req, res) => {
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'POST' || (path !== '/token' && path !== '/revoke')) return handler(req, res);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const form = new URLSearchParams(raw.toString());
  if (path === '/revoke' && form.get('token')) revoked.add(form.get('token'));
  if (path === '/token' && form.get('grant_type') === JWT_BEARER) return jwtBearer(form, res);
  // Hand the already-read body on to the mock as a fresh stream.
  const replay = Object.assign(Readable.from([raw]), { headers: req.headers, method: req.method, url: req.url, socket: req.socket });
  return handler(replay, res);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  issuer.url = `http://127.0.0.1:${port}`;
  process.stdout.write(`READY ${port}\n`);
});
