#!/usr/bin/env node
// oauth2-mock-server (a third-party OAuth2 server) shaped like an Amazon Cognito user pool, for
// the end-to-end tests: Cognito's paths, access-token claims, client authentication, scope rules
// and error bodies, added through the library's beforeTokenSigning / beforeResponse hooks.
//
//   node services/test-support/oauth2-cognito.js --port 0 --pool us-east-1_E2e1 \
//        --clients 'id1:secret1:premium_api/read,premium_api/write;id2:secret2:premium_api/read'
//
// Prints one line `READY {"port":..,"issuer":..,"token_endpoint":..,"jwks_uri":..}` on stdout
// once it serves, then logs one line per token request on stderr (never a secret or a token).
// Stops on SIGTERM/SIGINT. The library is found in OAUTH2_MOCK_SERVER_NODE_MODULES, else in
// $TOOLS_DIR/node/node_modules (TOOLS_DIR defaults to ~/.cache/cognito-m2m/tools), where
// scripts/install-test-tools puts it.
'use strict';

const path = require('node:path');
const os = require('node:os');
const { randomUUID, timingSafeEqual } = require('node:crypto');
const { pathToFileURL } = require('node:url');

function parseArgs(argv) {
  const args = { port: 0, pool: 'us-east-1_E2eTest1', clients: process.env.COGNITO_CLIENTS || '' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--port') args.port = Number(value);
    else if (flag === '--pool') args.pool = value;
    else if (flag === '--clients') args.clients = value;
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

// "id:secret:scope1,scope2;id2:secret2:scope3" -> Map(id -> {secret, scopes})
function parseClients(spec) {
  const clients = new Map();
  for (const entry of spec.split(';').filter((e) => e.trim() !== '')) {
    const [id, secret, scopes = ''] = entry.trim().split(':');
    if (!id || !secret) throw new Error('clients are ID:SECRET:SCOPE[,SCOPE...] separated by ;');
    clients.set(id, { secret, scopes: scopes.split(',').filter((s) => s !== '') });
  }
  if (clients.size === 0) throw new Error('at least one client is needed (--clients)');
  return clients;
}

// Client authentication as Cognito accepts it: HTTP Basic (client_secret_basic) or the form's
// client_id + client_secret (client_secret_post). Cognito documents the header as
// `Basic Base64Encode(client_id:client_secret)`: the pair is read as sent, without the RFC 6749
// 2.3.1 form-decoding that would turn the `+` Cognito allows in secrets into a space (as
// local-cognito's client_auth does). The AWS sample sends both at once; they must agree.
function presentedCredentials(req) {
  const header = req.headers.authorization || '';
  const [scheme, encoded] = header.trim().split(/\s+/, 2);
  const body = req.body || {};
  if (scheme && scheme.toLowerCase() === 'basic' && encoded) {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    // Two identities in one request is malformed; a second, different secret fails to log in.
    if (typeof body.client_id === 'string' && body.client_id !== id) return { malformed: true };
    if (typeof body.client_secret === 'string' && body.client_secret !== secret) return undefined;
    return { id, secret };
  }
  if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { id: body.client_id, secret: body.client_secret };
  }
  return undefined;
}

function sameSecret(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// Decides a token request exactly once: {clientId, scopes} or {error}.
function decide(clients, req) {
  const body = req.body || {};
  if (body.grant_type === 'authorization_code' || body.grant_type === 'refresh_token') {
    return { error: 'unauthorized_client' };
  }
  if (body.grant_type !== 'client_credentials') return { error: 'unsupported_grant_type' };
  const credentials = presentedCredentials(req);
  if (credentials && credentials.malformed) return { error: 'invalid_request' };
  const client = credentials && clients.get(credentials.id);
  if (!client || !sameSecret(client.secret, credentials.secret)) return { error: 'invalid_client' };
  const requested = typeof body.scope === 'string' ? body.scope.split(/\s+/).filter((s) => s) : [];
  if (requested.some((s) => !client.scopes.includes(s))) return { error: 'invalid_scope' };
  // No scope requested: Cognito grants every scope the client is allowed.
  const scopes = requested.length > 0 ? [...new Set(requested)] : client.scopes;
  if (scopes.length === 0) return { error: 'invalid_scope' };
  return { clientId: credentials.id, scopes };
}

async function loadLibrary() {
  const toolsDir =
    process.env.TOOLS_DIR || path.join(os.homedir(), '.cache', 'cognito-m2m', 'tools');
  const modulesDir =
    process.env.OAUTH2_MOCK_SERVER_NODE_MODULES || path.join(toolsDir, 'node', 'node_modules');
  try {
    return await import('oauth2-mock-server');
  } catch {
    const entry = path.join(modulesDir, 'oauth2-mock-server', 'dist', 'index.mjs');
    return await import(pathToFileURL(entry).href);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const clients = parseClients(args.clients);
  const { OAuth2Server } = await loadLibrary();
  const server = new OAuth2Server(undefined, undefined, {
    endpoints: {
      token: '/oauth2/token',
      jwks: `/${args.pool}/.well-known/jwks.json`,
      wellKnownDocument: `/${args.pool}/.well-known/openid-configuration`,
    },
  });
  await server.issuer.keys.generate('RS256');

  server.service.on('beforeTokenSigning', (token, req) => {
    const decision = decide(clients, req);
    req.cognitoDecision = decision;
    if (decision.error) return; // the response is replaced below; this token is never sent
    const { iss, iat, exp } = token.payload;
    // Cognito's claims, in Cognito's order; no nbf, no aud on access tokens.
    for (const key of Object.keys(token.payload)) delete token.payload[key];
    Object.assign(token.payload, {
      sub: decision.clientId,
      token_use: 'access',
      scope: decision.scopes.join(' '),
      auth_time: iat,
      iss,
      exp,
      iat,
      version: 2,
      jti: randomUUID(),
      client_id: decision.clientId,
    });
    token.header.typ = undefined;
  });

  server.service.on('beforeResponse', (response, req) => {
    const decision = req.cognitoDecision || decide(clients, req);
    if (decision.error) {
      response.statusCode = 400;
      response.body = { error: decision.error };
    } else {
      const { access_token, expires_in, token_type } = response.body;
      response.body = { access_token, expires_in, token_type };
    }
    const who = decision.clientId || (presentedCredentials(req) || {}).id || '-';
    console.error(`token client=${who} status=${response.statusCode}${decision.error ? ` error=${decision.error}` : ''}`);
  });

  await server.start(args.port, '127.0.0.1');
  const base = `http://127.0.0.1:${server.address().port}`;
  server.issuer.url = `${base}/${args.pool}`;
  const ready = {
    port: server.address().port,
    issuer: server.issuer.url,
    token_endpoint: `${base}/oauth2/token`,
    jwks_uri: `${base}/${args.pool}/.well-known/jwks.json`,
  };
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);

  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  console.error(`oauth2-cognito: ${error.message}`);
  process.exit(1);
});
