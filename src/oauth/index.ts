export { oauthErrors } from './errors.ts';
export { v1GrantRoutes } from './grant-routes.ts';
export { interactionRoutes } from './interaction-routes.ts';
export { OAUTH_PATH, oauthIssuer } from './provider.ts';
export { oauthRoutes } from './routes.ts';
export { apiResource, createOauthService, mcpResource, type OauthService } from './service.ts';
export { v1ServiceAccountClientRoutes } from './service-account-client-routes.ts';
