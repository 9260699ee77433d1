// The Bearer challenge every 401 and 403 from /mcp carries (RFC 6750 §3, RFC 9728 §5.1): it
// names the resource's metadata document, so an MCP client holding no token, or the wrong
// one, finds Gatehouse's authorization server from the answer alone.

/**
 * Where Gatehouse serves the MCP resource's RFC 9728 document: the path-inserted location
 * (oauth/routes.ts serves it, and at the root too, for clients that try there first).
 */
export function mcpResourceMetadataUrl(publicUrl: string): string {
  return `${publicUrl}/.well-known/oauth-protected-resource/mcp`;
}

export type BearerChallenge =
  /** No credential at all: RFC 6750 §3.1 says no error code then. */
  | { readonly error: 'none' }
  | { readonly error: 'invalid_token'; readonly description: string }
  /** The body names the missing permission in words; the header lists every one missing. */
  | { readonly error: 'insufficient_scope'; readonly scopes: readonly string[] };

/**
 * RFC 6750 §3 allows only %x20-21 / %x23-5B / %x5D-7E inside error_description: our messages
 * quote permission names with `"`, which would end the quoted string early.
 */
function quotable(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/** The WWW-Authenticate value for `challenge`, ending with the resource's metadata URL. */
export function bearerChallenge(resourceMetadata: string, challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.error === 'invalid_token')
    params.push('error="invalid_token"', `error_description="${quotable(challenge.description)}"`);
  // Scope tokens are permission names (`audit:read`): no character in them needs escaping.
  if (challenge.error === 'insufficient_scope')
    params.push('error="insufficient_scope"', `scope="${challenge.scopes.join(' ')}"`);
  params.push(`resource_metadata="${resourceMetadata}"`);
  return `Bearer ${params.join(', ')}`;
}
