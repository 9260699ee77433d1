export {
  type Bootstrap,
  createBootstrap,
  type FirstAdminInput,
  SETUP_LINK_LIFETIME_MS,
} from './bootstrap.ts';
export { type CookieNames, cookieNames } from './cookies.ts';
export { sessionErrors } from './errors.ts';
export {
  browserSessionRoutes,
  establishBrowserSession,
  type SessionRouteOptions,
  safeReturnTo,
  v1SessionRoutes,
} from './routes.ts';
export {
  createSessionRevoker,
  createSessionsService,
  type SessionSummary,
  type SessionsService,
  type StartedSession,
} from './service.ts';
export { createSessionCache } from './session-cache.ts';
export { ACCOUNT_FAILURE_LIMIT, ADDRESS_FAILURE_LIMIT, LOCKOUT_MS } from './throttle.ts';
