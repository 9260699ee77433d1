// SQL for consent records (migration 0005), for what revoking one removes, and for whether a
// user's access token still stands.
import { type Ctx, type DbOwner, hotQuery, type OauthConsentsTable } from '../db/index.ts';

export type ConsentRow = OauthConsentsTable;

export async function insertConsent(ctx: Ctx, row: ConsentRow): Promise<void> {
  await ctx.db.insertInto('oauth_consents').values(row).execute();
}

/** The user's grants for the client, newest first. */
export async function grantIdsFor(ctx: Ctx, userId: string, clientId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('oauth_consents')
    .select('grant_id')
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((row) => row.grant_id);
}

/** The user's consents whose grant still exists (not expired, not revoked), newest first. */
export function liveConsentsOf(ctx: Ctx, userId: string, now: number) {
  return ctx.db
    .selectFrom('oauth_consents as c')
    .innerJoin('oauth_artifacts as g', (join) =>
      join.onRef('g.id', '=', 'c.grant_id').on('g.model', '=', 'Grant'),
    )
    .leftJoin('oauth_artifacts as client', (join) =>
      join.onRef('client.id', '=', 'c.client_id').on('client.model', '=', 'Client'),
    )
    .select([
      'c.grant_id',
      'c.client_id',
      'c.resource',
      'c.scope',
      'c.created_at',
      'client.payload_json as client_json',
    ])
    .where('c.user_id', '=', userId)
    .where((eb) => eb.or([eb('g.expires_at', 'is', null), eb('g.expires_at', '>', now)]))
    .orderBy('c.created_at', 'desc')
    .execute();
}

/**
 * Deletes the user's consents for the client with their grants and everything issued under
 * them (codes, access and refresh tokens); returns the grant ids removed.
 */
export async function deleteConsentsOf(ctx: Ctx, userId: string, clientId: string): Promise<string[]> {
  const grantIds = await grantIdsFor(ctx, userId, clientId);
  if (grantIds.length === 0) return [];
  await ctx.db
    .deleteFrom('oauth_artifacts')
    .where((eb) =>
      eb.or([eb('grant_id', 'in', grantIds), eb.and([eb('model', '=', 'Grant'), eb('id', 'in', grantIds)])]),
    )
    .execute();
  await ctx.db
    .deleteFrom('oauth_consents')
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .execute();
  return grantIds;
}

/** The clients members of the org authorized whose grants still stand, with how many members and when last. */
export function clientsAuthorizedInOrg(ctx: Ctx, orgId: string, now: number) {
  return ctx.db
    .selectFrom('oauth_consents as c')
    .innerJoin('memberships as m', (join) =>
      join.onRef('m.user_id', '=', 'c.user_id').on('m.org_id', '=', orgId),
    )
    .innerJoin('oauth_artifacts as g', (join) =>
      join.onRef('g.id', '=', 'c.grant_id').on('g.model', '=', 'Grant'),
    )
    .leftJoin('oauth_artifacts as client', (join) =>
      join.onRef('client.id', '=', 'c.client_id').on('client.model', '=', 'Client'),
    )
    .select((eb) => [
      'c.client_id',
      'client.payload_json as client_json',
      eb.fn.count<number>('c.user_id').distinct().as('users'),
      eb.fn.max('c.created_at').as('last_authorized_at'),
    ])
    .where((eb) => eb.or([eb('g.expires_at', 'is', null), eb('g.expires_at', '>', now)]))
    .groupBy(['c.client_id', 'client.payload_json'])
    .orderBy('c.client_id')
    .execute();
}

/** The members of the org who authorized the client. */
export async function membersWhoAuthorized(ctx: Ctx, orgId: string, clientId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('oauth_consents as c')
    .innerJoin('memberships as m', (join) =>
      join.onRef('m.user_id', '=', 'c.user_id').on('m.org_id', '=', orgId),
    )
    .select('c.user_id')
    .distinct()
    .where('c.client_id', '=', clientId)
    .execute();
  return rows.map((row) => row.user_id);
}

/** Deletes one grant, everything issued under it and its consent record; false when it was gone already. */
export async function deleteGrant(ctx: Ctx, grantId: string): Promise<boolean> {
  const removed = await ctx.db
    .deleteFrom('oauth_artifacts')
    .where((eb) =>
      eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]),
    )
    .executeTakeFirst();
  await ctx.db.deleteFrom('oauth_consents').where('grant_id', '=', grantId).execute();
  return Number(removed.numDeletedRows) > 0;
}

/** Deletes every grant of the user, what was issued under each, and their consents; answers the grant ids. */
export async function deleteGrantsOfUser(ctx: Ctx, userId: string): Promise<string[]> {
  const grants = await ctx.db
    .selectFrom('oauth_artifacts')
    .select('id')
    .where('model', '=', 'Grant')
    .where('account_id', '=', userId)
    .execute();
  const ids = grants.map((g) => g.id);
  for (const id of ids) await deleteGrant(ctx, id);
  await ctx.db.deleteFrom('oauth_consents').where('user_id', '=', userId).execute();
  return ids;
}

/** What a user's access token rests on, read on every uncached check of one. */
export interface TokenStanding {
  /** The user's account status; undefined when there is no such user. */
  readonly userStatus: string | undefined;
  /** The grant it was issued under is stored and unexpired (not revoked). */
  readonly grantStands: boolean;
}

/** Parameters: 'Grant', grant id, now, user id (in the order the SQL takes them). */
const tokenStanding = hotQuery(
  'gatehouse_oauth_token_standing',
  (db) =>
    db
      .selectFrom('users as u')
      .select((eb) => [
        'u.status',
        eb
          .exists(
            eb
              .selectFrom('oauth_artifacts as g')
              .select('g.id')
              .where('g.model', '=', '')
              .where('g.id', '=', '')
              .where((inner) => inner.or([inner('g.expires_at', 'is', null), inner('g.expires_at', '>', 0)])),
          )
          .as('grant_stands'),
      ])
      .where('u.id', '=', ''),
  // PostgreSQL answers EXISTS with a boolean, SQLite with 0 or 1.
  (values): TokenStanding => ({
    userStatus: values[0] as string,
    grantStands: values[1] === true || values[1] === 1,
  }),
  {
    name: 'gatehouse_oauth_token_standings',
    // The lookups of one turn (PostgresBatch); a lookup whose user is gone answers no row, as
    // the single query does.
    sql: `select u.status,
        exists (
          select 1 from oauth_artifacts g
          where g.model = l.model and g.id = l.grant_id and (g.expires_at is null or g.expires_at > l.now)
        ) as grant_stands,
        l.position::int
      from unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
        with ordinality as l(model, grant_id, now, user_id, position)
      join users u on u.id = l.user_id`,
  },
);

/** The user's status and whether the grant stands, in one query (synchronous on SQLite). */
export function selectTokenStanding(
  owner: DbOwner,
  userId: string,
  grantId: string,
  now: number,
): TokenStanding | Promise<TokenStanding> {
  const found = tokenStanding(owner, ['Grant', grantId, now, userId]);
  return found instanceof Promise ? found.then(standingOrNoUser) : standingOrNoUser(found);
}

const NO_USER: TokenStanding = Object.freeze({ userStatus: undefined, grantStands: false });

function standingOrNoUser(row: TokenStanding | undefined): TokenStanding {
  return row ?? NO_USER;
}
