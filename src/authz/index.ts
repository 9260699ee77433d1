export { type Decision, decideByCredential, decideInOrg, decideSelf } from './decide.ts';
export {
  highestRole,
  isPermission,
  isReadPermission,
  isRole,
  isSelfPermission,
  matrix,
  type OrgPermission,
  orgPermissions,
  type Permission,
  type Role,
  type RoutePermission,
  roleAtLeast,
  roles,
  type SelfPermission,
  selfPermissions,
} from './roles.ts';
