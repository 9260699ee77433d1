export { OAUTH_PATH, oauthIssuer } from './provider.ts';
export { oauthRoutes } from './routes.ts';
export { createOauthService, mcpResource, type OauthService } from './service.ts';
