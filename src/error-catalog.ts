// Every capability's error catalog, listed by hand (convention 7) so docs/errors.md is
// generated from one list and a test can prove each code is unique across owners.
// A capability that adds an errors.ts adds its catalog here.
import { apiKeyErrors } from './apikeys/index.ts';
import { auditErrors } from './audit/index.ts';
import { authnErrors } from './authn/index.ts';
import { commonErrors, type ErrorCatalog } from './core/errors.ts';
import { httpErrors } from './http/index.ts';
import { mcpErrors } from './mcp/index.ts';
import { oauthErrors } from './oauth/index.ts';
import { scimErrors } from './scim/index.ts';
import { sessionErrors } from './sessions/index.ts';
import { ssoErrors } from './sso/index.ts';
import { tenancyErrors } from './tenancy/index.ts';

export const errorCatalogs: readonly ErrorCatalog<string>[] = [
  commonErrors,
  authnErrors,
  httpErrors,
  tenancyErrors,
  sessionErrors,
  auditErrors,
  apiKeyErrors,
  ssoErrors,
  oauthErrors,
  mcpErrors,
  scimErrors,
];
