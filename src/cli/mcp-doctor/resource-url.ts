// The URLs the doctor derives from an MCP server URL, as MCP clients derive them: the
// canonical resource identifier (RFC 8707 §2, MCP "Canonical Server URI"), and where the
// well-known metadata documents are looked for (RFC 9728 §3.1, RFC 8414 §3.1, OpenID
// Connect Discovery §4) in the order the official TypeScript SDK and the MCP
// authorization spec try them.

/** What was wrong with the URL given on the command line (a usage error). */
export class InvalidServerUrlError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidServerUrlError';
  }
}

/** The MCP server URL to examine: absolute http(s), no credentials in it (they would be printed). */
export function parseMcpServerUrl(raw: string): URL {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new InvalidServerUrlError(
      `the MCP server URL must be an absolute http:// or https:// URL, e.g. https://id.example.com/mcp (got ${JSON.stringify(raw)})`,
    );
  if (url.username !== '' || url.password !== '')
    throw new InvalidServerUrlError('the MCP server URL must not carry a user name or password');
  url.hash = '';
  return url;
}

/** A path without its trailing slashes (`/` becomes the empty path). */
function withoutTrailingSlash(pathname: string): string {
  return pathname.replace(/\/+$/, '');
}

/**
 * The canonical resource identifier of `url`: scheme and host lower-case, default port
 * dropped (WHATWG URL does both), no fragment (RFC 8707 §2: MUST NOT), no trailing slash
 * (the MCP spec's canonical form, and what audience comparisons in real clients expect).
 */
export function canonicalResourceUrl(url: string | URL): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${withoutTrailingSlash(parsed.pathname)}${parsed.search}`;
}

export type ResourceComparison =
  | { readonly kind: 'same' }
  /** Only a trailing slash differs: the SDK's `checkResourceAllowed` refuses it, so clients break. */
  | { readonly kind: 'trailing-slash' }
  /** The same resource written another way (`HTTPS://Host`, `:443`, a fragment). */
  | { readonly kind: 'not-canonical' }
  /** A parent of the server URL: the SDK accepts it, but tokens are then bound to the parent. */
  | { readonly kind: 'parent' }
  | { readonly kind: 'different' }
  | { readonly kind: 'invalid' };

/** How an advertised `resource` relates to the server's canonical resource identifier. */
export function compareResource(advertised: string, canonical: string): ResourceComparison {
  if (advertised === canonical) return { kind: 'same' };
  const parsed = URL.parse(advertised);
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return { kind: 'invalid' };
  if (canonicalResourceUrl(parsed) === canonical) {
    const slashless = advertised.replace(/\/+(?=\?|$)/, '');
    return slashless === canonical ? { kind: 'trailing-slash' } : { kind: 'not-canonical' };
  }
  const expected = new URL(canonical);
  const parentPath = `${withoutTrailingSlash(parsed.pathname)}/`;
  if (parsed.origin === expected.origin && `${expected.pathname}/`.startsWith(parentPath))
    return { kind: 'parent' };
  return { kind: 'different' };
}

export type ResourceMetadataSource = 'path-inserted' | 'root';

/**
 * Where RFC 9728 metadata is looked for when the challenge names no document: the
 * path-inserted location first, then the root (the SDK's `discoverMetadataWithFallback`).
 * A server at the root has only the root location.
 */
export function resourceMetadataFallbacks(
  serverUrl: URL,
): { readonly url: string; readonly source: ResourceMetadataSource }[] {
  const path = withoutTrailingSlash(serverUrl.pathname);
  const root = {
    url: new URL('/.well-known/oauth-protected-resource', serverUrl.origin).href,
    source: 'root' as const,
  };
  if (path === '') return [root];
  const inserted = new URL(`/.well-known/oauth-protected-resource${path}`, serverUrl.origin);
  inserted.search = serverUrl.search;
  return [{ url: inserted.href, source: 'path-inserted' }, root];
}

export type AuthorizationServerMetadataKind = 'oauth' | 'oidc';

/**
 * Where an authorization server's metadata is looked for, in the MCP authorization spec's
 * order (and the SDK's `buildDiscoveryUrls`): for an issuer with a path, RFC 8414 with the
 * path inserted, OpenID Connect with the path inserted, then OpenID Connect appended to the
 * path; for an issuer without one, RFC 8414 then OpenID Connect at the root.
 */
export function authorizationServerMetadataUrls(
  issuer: URL,
): { readonly url: string; readonly kind: AuthorizationServerMetadataKind }[] {
  const path = withoutTrailingSlash(issuer.pathname);
  const at = (pathname: string) => new URL(pathname, issuer.origin).href;
  if (path === '')
    return [
      { url: at('/.well-known/oauth-authorization-server'), kind: 'oauth' },
      { url: at('/.well-known/openid-configuration'), kind: 'oidc' },
    ];
  return [
    { url: at(`/.well-known/oauth-authorization-server${path}`), kind: 'oauth' },
    { url: at(`/.well-known/openid-configuration${path}`), kind: 'oidc' },
    { url: at(`${path}/.well-known/openid-configuration`), kind: 'oidc' },
  ];
}

/** An absolute http(s) URL, or undefined: what metadata fields naming endpoints must hold. */
export function httpUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  const url = URL.parse(value);
  return url && (url.protocol === 'http:' || url.protocol === 'https:') ? url : undefined;
}
