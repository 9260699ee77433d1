// TypeBox schemas shared by the tenancy routes.
import { Type } from '@sinclair/typebox';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../core/pagination.ts';
import { SLUG_PATTERN } from './validation.ts';

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('viewer')]);
export const OrgParams = Type.Object({ org: Type.String({ minLength: 1, maxLength: 64 }) });
export const MemberParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  user_id: Type.String({ pattern: '^usr_[0-9a-z]{26}$' }),
});
export const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
};
export const NameSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
export const SlugSchema = Type.String({ pattern: SLUG_PATTERN });
export const EmailSchema = Type.String({ minLength: 3, maxLength: 254 });

export const OrgSchema = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  default_role: RoleSchema,
  session_idle_timeout_seconds: Type.Integer(),
  session_absolute_lifetime_seconds: Type.Integer(),
  sso_required: Type.Boolean(),
  break_glass_user_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
});

export const MemberSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  status: Type.String(),
  role: RoleSchema,
  role_source: Type.String(),
  /** `suspended`: deactivated in this org by its IdP over SCIM, while `status` is the account's. */
  membership_status: Type.String(),
  created_at: Type.String(),
  joined_at: Type.String(),
});

export const pageOf = <T extends import('@sinclair/typebox').TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });

// Projects, groups and service accounts (resource-routes.ts).
export const DescriptionSchema = Type.String({ maxLength: 2000 });
export const ProjectParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  project_id: Type.String({ pattern: '^prj_[0-9a-z]{26}$' }),
});
export const GroupParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  group_id: Type.String({ pattern: '^grp_[0-9a-z]{26}$' }),
});
export const GroupMemberParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  group_id: Type.String({ pattern: '^grp_[0-9a-z]{26}$' }),
  user_id: Type.String({ pattern: '^usr_[0-9a-z]{26}$' }),
});
export const ServiceAccountParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  service_account_id: Type.String({ pattern: '^sva_[0-9a-z]{26}$' }),
});

export const ProjectSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const GroupSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  source: Type.String(),
  created_at: Type.String(),
});

export const GroupMemberSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  status: Type.String(),
  added_at: Type.String(),
});

export const ServiceAccountSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  disabled: Type.Boolean(),
  disabled_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
});
