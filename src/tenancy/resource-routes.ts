import type { FastifyPluginAsync } from 'fastify';
import type { TenancyRouteOptions } from './routes.ts';

export const v1TenancyResourceRoutes: FastifyPluginAsync<TenancyRouteOptions> = async () => {};
