import './fastify-augment.ts';

export { type BrowserSurfaceDeps, registerBrowserSurface } from './browser-surface.ts';
export { CSRF_HEADER, sessionCsrfToken } from './csrf.ts';
export { httpErrors } from './errors.ts';
export { registerForwardAuth } from './forward-auth.ts';
export {
  createForwardAuthFastPath,
  type FastPath,
  type ForwardAuthFastPath,
} from './forward-auth-fast-path.ts';
export { admitToOrg, admitToSelfRoute, refusalFor } from './guard.ts';
export { serverWithFastPath } from './http-server.ts';
export type { InFlightTracker } from './in-flight.ts';
export {
  createMetricsRegistry,
  type Readiness,
  registerOpsRoutes,
  registerServiceCounters,
  type ServiceCounter,
} from './ops.ts';
export { requestIdFor } from './request-context.ts';
export { registerRequestLifecycle } from './request-lifecycle.ts';
export { requestLogController, requestLoggerFactory } from './request-logging.ts';
export { collectRoutes, type RouteEntry } from './route-table.ts';
export { registerScimSurface, SCIM_CONTENT_TYPE, type ScimSurfaceDeps } from './scim-surface.ts';
export { registerStaticAssets } from './static-assets.ts';
export {
  API_HEADERS,
  type JsonErrorAnswer,
  jsonErrorAnswer,
  registerV1Surface,
  sendJsonError,
  type V1SurfaceDeps,
} from './v1-surface.ts';
