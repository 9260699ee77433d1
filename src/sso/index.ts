export { ssoErrors } from './errors.ts';
export type { TxtResolver } from './mapping/domain-claims.ts';
export { browserSsoRoutes, type SsoRouteOptions, v1SsoRoutes } from './routes.ts';
export { createSsoService, OIDC_CALLBACK_PATH, type SsoService } from './service.ts';
