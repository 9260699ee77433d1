export { ssoErrors } from './errors.ts';
export type { TxtResolver } from './mapping/domain-claims.ts';
export { type SsoRouteOptions, v1SsoRoutes } from './routes.ts';
export { createSsoService, OIDC_CALLBACK_PATH, type SsoService } from './service.ts';
export { browserSsoRoutes } from './sign-in-routes.ts';
