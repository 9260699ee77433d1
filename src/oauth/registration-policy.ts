// What a client may register for itself at /oauth/register (RFC 7591, SPEC §4): a public
// client (no secret: it runs on the user's machine or in their browser) using the
// authorization code flow (or the device flow), redirecting to https or to a loopback address. Confidential
// clients and client credentials are made by an admin.
import type { errors } from 'oidc-provider';

type ErrorClasses = Pick<typeof errors, 'InvalidClientMetadata' | 'InvalidRedirectUri'>;

const ALLOWED_GRANTS = new Set([
  'authorization_code',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:device_code',
]);
/** The hosts a loopback redirect URI may name (RFC 8252 §7.3, and `localhost`). */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

function redirectAllowed(uri: string): boolean {
  const parsed = URL.parse(uri);
  if (!parsed) return false;
  if (parsed.protocol === 'https:') return !LOOPBACK_HOSTS.has(parsed.hostname);
  return parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname);
}

/** Throws the library's own error for a registration outside the policy; its answer is RFC 7591's. */
export function checkDynamicRegistration(
  libraryErrors: ErrorClasses,
  metadata: Readonly<Record<string, unknown>>,
): void {
  const method = metadata.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none')
    throw new libraryErrors.InvalidClientMetadata(
      'dynamically registered clients are public: token_endpoint_auth_method must be none',
    );
  const grants = Array.isArray(metadata.grant_types) ? metadata.grant_types : [];
  const refused = grants.find((grant) => !ALLOWED_GRANTS.has(grant as string));
  if (refused !== undefined)
    throw new libraryErrors.InvalidClientMetadata(
      `grant_types may hold only authorization_code, refresh_token and the device code grant, not ${String(refused)}`,
    );
  const uris = Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : [];
  const bad = uris.find((uri) => typeof uri !== 'string' || !redirectAllowed(uri));
  if (bad !== undefined)
    throw new libraryErrors.InvalidRedirectUri(
      'redirect_uris must use https, or http on a loopback address (127.0.0.1, [::1], localhost)',
    );
}
