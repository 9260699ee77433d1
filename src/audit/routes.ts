// /v1 routes of the audit log: admin-only list with filters and cursor pagination, and
// chain verification (SPEC §7).
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../core/pagination.ts';
import type { AuditService } from './service.ts';

export interface AuditRouteOptions {
  readonly audit: AuditService;
}

const OrgParams = Type.Object({ org: Type.String({ minLength: 1, maxLength: 64 }) });
const ListQuery = Type.Object({
  action: Type.Optional(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+|\\.\\*)$', maxLength: 100 })),
  actor_id: Type.Optional(Type.String({ maxLength: 64 })),
  target_id: Type.Optional(Type.String({ maxLength: 64 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
});
const EventSchema = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  org_id: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  actor: Type.Object({ kind: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  target: Type.Union([Type.Object({ kind: Type.String(), id: Type.String() }), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  occurred_at: Type.String(),
});
const VerifySchema = Type.Object({
  valid: Type.Boolean(),
  events_checked: Type.Integer(),
  first_broken: Type.Union([
    Type.Object({
      seq: Type.Integer(),
      event_id: Type.Union([Type.String(), Type.Null()]),
      reason: Type.String(),
    }),
    Type.Null(),
  ]),
});

export const v1AuditRoutes: FastifyPluginAsync<AuditRouteOptions> = async (app, { audit }) => {
  app.get<{ Params: Static<typeof OrgParams>; Querystring: Static<typeof ListQuery> }>(
    '/orgs/:org/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        params: OrgParams,
        querystring: ListQuery,
        response: {
          200: Type.Object({
            data: Type.Array(EventSchema),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async function listAuditEvents(request) {
      const q = request.query;
      const page = await audit.list(request.ctx, request.orgAccess!.org.id, {
        action: q.action,
        actorId: q.actor_id,
        targetId: q.target_id,
        since: q.since ? Date.parse(q.since) : undefined,
        until: q.until ? Date.parse(q.until) : undefined,
        cursor: q.cursor,
        limit: q.limit,
      });
      return { data: page.items, next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: Static<typeof OrgParams> }>(
    '/orgs/:org/audit/verify',
    { config: { permission: 'audit:read' }, schema: { params: OrgParams, response: { 200: VerifySchema } } },
    async function verifyAuditChain(request) {
      const result = await audit.verify(request.ctx, request.orgAccess!.org.id);
      return {
        valid: result.valid,
        events_checked: result.eventsChecked,
        first_broken: result.valid
          ? null
          : {
              seq: result.firstBroken.seq,
              event_id: result.firstBroken.eventId,
              reason: result.firstBroken.reason,
            },
      };
    },
  );
};
