export { auditErrors } from './errors.ts';
export { type AuditRouteOptions, v1AuditRoutes } from './routes.ts';
export {
  type ActorKind,
  type AuditEvent,
  type AuditEventInput,
  type AuditFilter,
  type AuditService,
  createAuditService,
  INSTANCE_CHAIN,
  type VerifyResult,
} from './service.ts';
