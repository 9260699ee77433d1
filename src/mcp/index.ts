export { mcpErrors } from './errors.ts';
export { type McpRouteOptions, mcpRoutes } from './routes.ts';
export type { McpGuard } from './tools.ts';
