// Collects every route as it is registered and refuses one without a declared permission,
// so a forgotten guard fails at start-up, not in production. Tests read the table.
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { RoutePermission } from '../authz/index.ts';

export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly permission: RoutePermission;
}

export function collectRoutes(app: FastifyInstance, table: RouteEntry[]): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const permission = route.config?.permission;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (permission === undefined) {
      throw new Error(
        `route ${methods.join(',')} ${route.url} declares no permission (use 'public' explicitly)`,
      );
    }
    for (const method of methods) {
      if (method === 'HEAD' && route.url !== '/healthz') continue;
      table.push({ method, url: route.url, permission });
    }
  });
}
