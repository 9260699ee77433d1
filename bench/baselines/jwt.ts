// B-JWT: a bare Fastify route doing jose.jwtVerify of one ES256 token against a local JWKS:
// the floor for any route that verifies an access token on every request. The token and the
// key set are Gatehouse's (the suite passes the user's access token's issuer, audience and
// the published /oauth/jwks), and the checks are those Gatehouse makes (src/oauth/
// access-tokens.ts): issuer, audience, typ at+jwt, ES256 only, exp. No logger, no plugins.
//   BENCH_JWKS      the JSON Web Key Set (public keys)
//   BENCH_ISSUER    the expected `iss`
//   BENCH_AUDIENCE  the expected `aud`
import Fastify from 'fastify';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { announceReady, stopWithParent } from '../lib/child-server.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const keys = createLocalJWKSet(JSON.parse(env('BENCH_JWKS')));
const options = {
  issuer: env('BENCH_ISSUER'),
  audience: env('BENCH_AUDIENCE'),
  typ: 'at+jwt',
  algorithms: ['ES256'],
};

const app = Fastify({ logger: false });
app.get('/', async (request, reply) => {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) return reply.status(401).send({ error: 'no_token' });
  try {
    const { payload } = await jwtVerify(header.slice('Bearer '.length), keys, options);
    return { status: 'ok', sub: payload.sub };
  } catch {
    return reply.status(401).send({ error: 'invalid_token' });
  }
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
stopWithParent(() => app.close());
announceReady(url);
