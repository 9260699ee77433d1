// The Bearer challenges of /mcp (RFC 6750 §3, RFC 9728 §5.1): the metadata URL always, an
// error code only when a credential was presented, and an error_description that stays a
// valid quoted-string whatever the message holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerChallenge, mcpResourceMetadataUrl } from './challenge.ts';

const METADATA = mcpResourceMetadataUrl('https://id.example.com');

describe('MCP bearer challenge', () => {
  it('names the path-inserted metadata document of the MCP resource', () => {
    assert.equal(METADATA, 'https://id.example.com/.well-known/oauth-protected-resource/mcp');
  });

  it('carries no error code when no credential was sent', () => {
    assert.equal(bearerChallenge(METADATA, { error: 'none' }), `Bearer resource_metadata="${METADATA}"`);
  });

  it('keeps error_description a quoted-string: quotes, backslashes and non-ASCII are replaced or dropped', () => {
    const challenge = bearerChallenge(METADATA, {
      error: 'invalid_token',
      description: 'The header must be "Bearer <credential>" \\ naïve',
    });
    assert.equal(
      challenge,
      `Bearer error="invalid_token", error_description="The header must be 'Bearer <credential>'  nave", resource_metadata="${METADATA}"`,
    );
  });

  it('lists every missing scope, space-separated', () => {
    assert.equal(
      bearerChallenge(METADATA, { error: 'insufficient_scope', scopes: ['projects:read', 'audit:read'] }),
      `Bearer error="insufficient_scope", scope="projects:read audit:read", resource_metadata="${METADATA}"`,
    );
  });
});
