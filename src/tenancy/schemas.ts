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
  created_at: Type.String(),
});

export const MemberSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  status: Type.String(),
  role: RoleSchema,
  role_source: Type.String(),
  created_at: Type.String(),
  joined_at: Type.String(),
});

export const pageOf = <T extends import('@sinclair/typebox').TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
