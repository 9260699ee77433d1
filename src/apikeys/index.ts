export { apiKeyErrors } from './errors.ts';
export { type ApiKeyRouteOptions, v1ApiKeyRoutes } from './routes.ts';
export { type ScimTokenRouteOptions, v1ScimTokenRoutes } from './scim-token-routes.ts';
export {
  createScimTokensService,
  type IssuedScimToken,
  SCIM_TOKEN_CHANNEL,
  type ScimToken,
  type ScimTokensService,
} from './scim-tokens.ts';
export {
  type ApiKeysService,
  createApiKeysService,
  type IssuedApiKey,
  type KeyScope,
} from './service.ts';
export type { ApiKey } from './views.ts';
