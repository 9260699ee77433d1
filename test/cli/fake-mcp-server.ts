// A small MCP server with its own authorization server on one loopback port, configured
// right by default and given one fault at a time, for `gatehouse mcp doctor` to find. It
// imitates only what the doctor looks at: the 401 on /mcp, the RFC 9728 documents, the
// RFC 8414 document (issuer `<base>/auth`), CORS preflights, registration and the JWKS.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface FakeFaults {
  /** `none`: 200 to an unauthenticated initialize; `no-resource-metadata`: `Bearer realm="mcp"` only. */
  readonly challenge?: 'none' | 'no-resource-metadata';
  /** Serve no document at the path-inserted location (only at the root). */
  readonly noPathInsertedDocument?: boolean;
  readonly resourceTrailingSlash?: boolean;
  /** The issuer the AS metadata claims, instead of `<base>/auth`. */
  readonly issuer?: string;
  /** code_challenge_methods_supported; `null` leaves it out. */
  readonly codeChallengeMethods?: readonly string[] | null;
  /** No CORS on the metadata documents (neither preflight nor GET). */
  readonly noMetadataCors?: boolean;
  readonly noRegistration?: boolean;
  readonly clientIdMetadataDocuments?: boolean;
  /** The challenge names `<base>/moved`, which redirects here (another origin). */
  readonly redirectMetadataTo?: string;
  /** Refuse every token with a challenge that quotes it back (servers do echo what they got). */
  readonly refuseTokensEchoingThem?: boolean;
  /** The protected-resource document is this many bytes of JSON, sent chunked. */
  readonly resourceMetadataBytes?: number;
}

export interface FakeMcpServer {
  readonly base: string;
  readonly mcpUrl: string;
  readonly issuer: string;
  /** Every request received, as `METHOD path`. */
  readonly requests: string[];
  /** The bodies POSTed to the registration endpoint. */
  readonly registrations: unknown[];
  /** Signs an access token with the server's published key; /mcp accepts it. */
  issueToken(claims: { aud: string | string[]; iss?: string; expiresIn?: string }): Promise<string>;
  /** Signs a token with a key the server does not publish; /mcp accepts it all the same. */
  issueForeignToken(claims: { aud: string }): Promise<string>;
  close(): Promise<void>;
}

const PRM_PATH = '/.well-known/oauth-protected-resource';
const AS_METADATA_PATH = '/.well-known/oauth-authorization-server/auth';

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeMcpServer(faults: FakeFaults = {}): Promise<FakeMcpServer> {
  const requests: string[] = [];
  const registrations: unknown[] = [];
  const accepted = new Set<string>();
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const foreign = await generateKeyPair('ES256');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'fake-1', alg: 'ES256', use: 'sig' };
  let base = '';

  const openCors = { 'access-control-allow-origin': '*' };
  const preflightHeaders = {
    ...openCors,
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': 'Authorization, Content-Type, Mcp-Protocol-Version',
  };
  const isMetadata = (path: string) => path.startsWith('/.well-known/');
  const metadataCors = () => (faults.noMetadataCors ? {} : openCors);

  function challengeHeader(): Record<string, string> {
    const header =
      faults.challenge === 'no-resource-metadata'
        ? 'Bearer realm="mcp"'
        : `Bearer realm="mcp", resource_metadata="${faults.redirectMetadataTo ? `${base}/moved` : `${base}${PRM_PATH}/mcp`}"`;
    return { 'www-authenticate': header };
  }

  function resourceDocument(res: ServerResponse): void {
    const document = {
      resource: `${base}/mcp${faults.resourceTrailingSlash ? '/' : ''}`,
      authorization_servers: [`${base}/auth`],
    };
    if (faults.resourceMetadataBytes === undefined) {
      send(res, 200, metadataCors(), document);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...metadataCors() });
    const chunk = ' '.repeat(64 * 1024);
    for (let sent = 0; sent < faults.resourceMetadataBytes; sent += chunk.length) res.write(chunk);
    res.end(JSON.stringify(document));
  }

  function authorizationServerDocument(res: ServerResponse): void {
    const issuer = `${base}/auth`;
    send(res, 200, metadataCors(), {
      issuer: faults.issuer ?? issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      ...(faults.codeChallengeMethods !== null && {
        code_challenge_methods_supported: faults.codeChallengeMethods ?? ['S256'],
      }),
      ...(!faults.noRegistration && { registration_endpoint: `${issuer}/register` }),
      ...(faults.clientIdMetadataDocuments && { client_id_metadata_document_supported: true }),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    requests.push(`${req.method} ${path}`);
    if (req.method === 'OPTIONS') {
      if (isMetadata(path) && faults.noMetadataCors) return send(res, 404, {});
      return send(res, 204, preflightHeaders);
    }
    if (path === '/mcp' && req.method === 'POST') {
      await readBody(req);
      const cors = { ...openCors, 'access-control-expose-headers': 'WWW-Authenticate' };
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      if (token !== undefined && faults.refuseTokensEchoingThem)
        return send(
          res,
          401,
          {
            ...cors,
            'www-authenticate': `Bearer error="invalid_token", error_description="unknown token ${token}"`,
          },
          { error: 'invalid_token' },
        );
      if (faults.challenge === 'none' || (token !== undefined && accepted.has(token)))
        return send(res, 200, cors, {
          jsonrpc: '2.0',
          id: 0,
          result: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            serverInfo: { name: 'fake-mcp', version: '1' },
          },
        });
      return send(res, 401, { ...cors, ...challengeHeader() }, { error: 'unauthorized' });
    }
    if (req.method === 'GET' && path === '/moved' && faults.redirectMetadataTo)
      return send(res, 302, { location: faults.redirectMetadataTo });
    if (req.method === 'GET' && path === `${PRM_PATH}/mcp` && !faults.noPathInsertedDocument)
      return resourceDocument(res);
    if (req.method === 'GET' && path === PRM_PATH) return resourceDocument(res);
    if (req.method === 'GET' && path === AS_METADATA_PATH) return authorizationServerDocument(res);
    if (req.method === 'GET' && path === '/auth/jwks') return send(res, 200, openCors, { keys: [publicJwk] });
    if (req.method === 'POST' && path === '/auth/register' && !faults.noRegistration) {
      const body: unknown = JSON.parse(await readBody(req));
      registrations.push(body);
      return send(res, 201, openCors, {
        ...(body as object),
        client_id: `fake-client-${registrations.length}`,
      });
    }
    send(res, 404, {}, { error: 'not_found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, {});
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function sign(
    key: Parameters<SignJWT['sign']>[0],
    kid: string,
    claims: { aud: string | string[]; iss?: string; expiresIn?: string },
  ) {
    const token = await new SignJWT({ scope: 'projects:read' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(claims.iss ?? `${base}/auth`)
      .setAudience(claims.aud)
      .setSubject('usr_fake')
      .setIssuedAt()
      .setExpirationTime(claims.expiresIn ?? '1h')
      .sign(key);
    accepted.add(token);
    return token;
  }

  return {
    base,
    mcpUrl: `${base}/mcp`,
    issuer: `${base}/auth`,
    requests,
    registrations,
    issueToken: (claims) => sign(privateKey, 'fake-1', claims),
    issueForeignToken: (claims) => sign(foreign.privateKey, 'fake-1', claims),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
