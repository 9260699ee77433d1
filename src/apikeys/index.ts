export { apiKeyErrors } from './errors.ts';
export { type ApiKeyRouteOptions, v1ApiKeyRoutes } from './routes.ts';
export {
  type ApiKeysService,
  createApiKeysService,
  type IssuedApiKey,
  type KeyScope,
} from './service.ts';
export type { ApiKey } from './views.ts';
