export {
  type AttributeDefinition,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  groupAttributes,
  type ResourceAttributes,
  USER_SCHEMA,
  userAttributes,
} from './attributes.ts';
export {
  LIST_RESPONSE_SCHEMA,
  listResponse,
  MAX_PAGE_SIZE,
  resourceTypes,
  schemas,
  serviceProviderConfig,
} from './discovery.ts';
export { SCIM_TYPES, scimErrors } from './errors.ts';
export { type ColumnMap, compileFilter, type MultiValuedTable, type ScalarColumn } from './filter/compile.ts';
export { type CompareOp, FILTER_LIMITS, type FilterNode, parseScimFilter } from './filter/parse.ts';
export {
  applyPatch,
  MAX_PATCH_OPERATIONS,
  type MemberChanges,
  PATCH_OP_SCHEMA,
  type PatchOutcome,
  type ScimObject,
  type ScimValue,
} from './patch/apply.ts';
export { type PatchPath, parsePatchPath } from './patch/path.ts';
export {
  type ScimResourceRouteOptions,
  type ScimRouteOptions,
  scimDiscoveryRoutes,
  scimResourceRoutes,
} from './routes.ts';
export { createScimService, type ScimService, type ScimServiceDeps } from './service.ts';
