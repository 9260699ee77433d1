export { apiKeyErrors } from './errors.ts';
export { type ApiKeyRouteOptions, v1ApiKeyRoutes } from './routes.ts';
export {
  type ApiKeysService,
  createApiKeysService,
  DEFAULT_ROTATION_OVERLAP_MS,
  type IssuedApiKey,
  type KeyScope,
} from './service.ts';
export type { KeyCacheConfig, KeyLookupStats } from './verification.ts';
export type { ApiKey } from './views.ts';
