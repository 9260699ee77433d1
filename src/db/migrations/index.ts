// The ordered list of migrations, listed by hand (no directory scanning) so the same set
// ships with every build and readyz can compare applied against known.
import type { Migration, MigrationProvider } from 'kysely';
import * as spine from './0001-spine.ts';
import * as apiKeys from './0002-api-keys.ts';
import * as sso from './0003-sso.ts';
import * as oauth from './0004-oauth.ts';
import * as oauthConsents from './0005-oauth-consents.ts';
import * as serviceAccountClients from './0006-service-account-clients.ts';
import * as oauthPartialIndexes from './0007-oauth-partial-indexes.ts';
import * as oauthArtifactAccount from './0008-oauth-artifact-account.ts';
import * as scimTokens from './0009-scim-tokens.ts';
import * as scimResources from './0010-scim-resources.ts';
import * as auditHeadTrigger from './0011-audit-head-trigger.ts';

export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-spine': spine,
  '0002-api-keys': apiKeys,
  '0003-sso': sso,
  '0004-oauth': oauth,
  '0005-oauth-consents': oauthConsents,
  '0006-service-account-clients': serviceAccountClients,
  '0007-oauth-partial-indexes': oauthPartialIndexes,
  '0008-oauth-artifact-account': oauthArtifactAccount,
  '0009-scim-tokens': scimTokens,
  '0010-scim-resources': scimResources,
  '0011-audit-head-trigger': auditHeadTrigger,
});

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
