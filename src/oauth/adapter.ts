// oidc-provider's storage adapter over the one table `oauth_artifacts` (migration 0004), so
// every node sees the codes, tokens, grants, sessions and interactions another issued. The
// interface is the library's (lib/helpers/initialize_adapter.js: a class instantiated once
// per model name). Expiry and consumption are enforced here, not left to the library alone:
// a row past its expiry is never returned, and a consumed row carries `consumed`, which is
// how oidc-provider detects a replayed code (RFC 6749 §4.1.2) or a rotated refresh token
// (RFC 9700 §4.14.2).
import { sql } from 'kysely';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/context.ts';
import {
  type Ctx,
  createSharedCache,
  type Db,
  hotQuery,
  hotStatement,
  type Notifications,
  type RowValues,
} from '../db/index.ts';
import type { ClientMetadataResolver } from './client-metadata.ts';

/** What oidc-provider hands us and expects back: its model's fields, opaque to us. */
export type OauthPayload = Record<string, unknown>;

/** The methods oidc-provider calls on the adapter of each model. */
export interface OauthAdapter {
  upsert(id: string, payload: OauthPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<OauthPayload | undefined>;
  findByUserCode(userCode: string): Promise<OauthPayload | undefined>;
  findByUid(uid: string): Promise<OauthPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface OauthAdapterDeps {
  /**
   * The root Kysely instance, not a request's `ctx.db`: oidc-provider calls the adapter from
   * its own Koa stack, outside our request context and outside any transaction of ours.
   */
  readonly db: Db;
  readonly clock: Clock;
  /**
   * Clients that name themselves by a URL (Client ID Metadata Documents): their registration
   * is the document at that URL, never a row of ours.
   */
  readonly clientDocuments?: Pick<ClientMetadataResolver, 'isDocumentUrl' | 'resolve'>;
  /** Confidential clients acting as service accounts: kept in their own table, secret sealed. */
  readonly serviceAccountClients?: {
    isServiceAccountClient(clientId: string): boolean;
    metadataOf(clientId: string): Promise<Record<string, unknown> | undefined>;
  };
  /**
   * Keeps stored clients' registrations in memory, dropped on every node when one is saved
   * again or destroyed (the `oauth_clients` channel). Without it every find reads the row.
   */
  readonly clientCache?: {
    readonly notifications: Notifications;
    readonly log: Logger;
    readonly enabled: boolean;
    readonly ttlMs: number;
    readonly maxEntries: number;
  };
  /**
   * What one oidc-provider request read ahead. With it, a refresh token or authorization code
   * is read together with its grant and its user, which the library asks for next in the same
   * request: one round trip instead of three. Without it every find reads alone.
   */
  readonly readAhead?: ReadAhead;
}

/** A user read with the token issued to them: what findAccount needs to decide. */
export interface AccountRow {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly status: string;
}

interface ReadAheadRows {
  readonly Grant: LiveRow;
  readonly Account: AccountRow;
}
type ReadAheadKind = keyof ReadAheadRows;

/** Told apart from a row read ahead as missing (undefined): nothing was read ahead. */
export const NOT_READ_AHEAD = Symbol('not read ahead');

/**
 * Rows read ahead for the rest of one oidc-provider request, keyed by the library's request
 * context (Provider.ctx) so nothing outlives the request, and taken once: the next read of that
 * row gets what was read with the token; a second read, or one after it changed here, goes to
 * the database.
 */
export interface ReadAhead {
  keep<K extends ReadAheadKind>(kind: K, id: string, row: ReadAheadRows[K] | undefined): void;
  take<K extends ReadAheadKind>(kind: K, id: string): ReadAheadRows[K] | undefined | typeof NOT_READ_AHEAD;
  forget(kind: ReadAheadKind, id: string): void;
}

export function createReadAhead(currentRequest: () => object | undefined): ReadAhead {
  const kept = new WeakMap<object, Map<string, unknown>>();
  const keyOf = (kind: ReadAheadKind, id: string) => `${kind}:${id}`;
  return {
    keep(kind, id, row) {
      const request = currentRequest();
      if (!request) return;
      let rows = kept.get(request);
      if (!rows) {
        rows = new Map();
        kept.set(request, rows);
      }
      rows.set(keyOf(kind, id), row);
    },
    take<K extends ReadAheadKind>(kind: K, id: string) {
      const request = currentRequest();
      const rows = request && kept.get(request);
      const key = keyOf(kind, id);
      if (!rows?.has(key)) return NOT_READ_AHEAD;
      const row = rows.get(key) as ReadAheadRows[K] | undefined;
      rows.delete(key);
      return row;
    },
    forget(kind, id) {
      const request = currentRequest();
      if (request) kept.get(request)?.delete(keyOf(kind, id));
    },
  };
}

const CLIENT_CHANNEL = 'oauth_clients';

type Lookup = 'id' | 'uid' | 'user_code';

// Every token request reads and writes several artifacts (a refresh: the token, its grant
// and its user in one read, then the old token consumed and the new one stored; the client
// comes from memory), so they run as prepared statements below Kysely (db/hot-query.ts).
// Placeholder values stand where the parameters go, in the order each method passes them.
interface LiveRow {
  readonly payload_json: string;
  readonly consumed_at: number | null;
}
const decodeLiveRow = (values: RowValues): LiveRow => ({
  payload_json: values[0] as string,
  consumed_at: values[1] as number | null,
});

/** model, value, now */
function liveArtifactBy(column: Lookup) {
  return hotQuery(
    `gatehouse_oauth_artifact_by_${column}`,
    (db) =>
      db
        .selectFrom('oauth_artifacts')
        .select(['payload_json', 'consumed_at'])
        .where('model', '=', '')
        .where(column, '=', '')
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', 0)])),
    decodeLiveRow,
  );
}
const liveArtifact: Readonly<Record<Lookup, ReturnType<typeof liveArtifactBy>>> = {
  id: liveArtifactBy('id'),
  uid: liveArtifactBy('uid'),
  user_code: liveArtifactBy('user_code'),
};

/**
 * The models the token endpoint redeems, whose grant and account oidc-provider reads right
 * after them (lib/actions/grants: validateGrant, validateAccount).
 */
const READ_AHEAD_MODELS: ReadonlySet<string> = new Set(['RefreshToken', 'AuthorizationCode']);

interface LiveRowReadAhead extends LiveRow {
  readonly grant: LiveRow | undefined;
  readonly account: AccountRow | undefined;
}

/**
 * now (the grant's expiry), model, id, now (the artifact's): the artifact, its live grant and
 * the user it was issued to.
 */
const liveArtifactReadAhead = hotQuery(
  'gatehouse_oauth_artifact_read_ahead',
  (db) =>
    db
      .selectFrom('oauth_artifacts as a')
      .leftJoin('oauth_artifacts as g', (join) =>
        join
          .on('g.model', '=', sql.lit('Grant'))
          .onRef('g.id', '=', 'a.grant_id')
          .on((eb) => eb.or([eb('g.expires_at', 'is', null), eb('g.expires_at', '>', 0)])),
      )
      .leftJoin('users as u', 'u.id', 'a.account_id')
      .select([
        'a.payload_json',
        'a.consumed_at',
        'g.payload_json as grant_payload_json',
        'g.consumed_at as grant_consumed_at',
        'u.id as user_id',
        'u.email as user_email',
        'u.name as user_name',
        'u.status as user_status',
      ])
      .where('a.model', '=', '')
      .where('a.id', '=', '')
      .where((eb) => eb.or([eb('a.expires_at', 'is', null), eb('a.expires_at', '>', 0)])),
  (values): LiveRowReadAhead => ({
    payload_json: values[0] as string,
    consumed_at: values[1] as number | null,
    grant:
      values[2] === null
        ? undefined
        : { payload_json: values[2] as string, consumed_at: values[3] as number | null },
    account:
      values[4] === null
        ? undefined
        : {
            id: values[4] as string,
            email: values[5] as string,
            name: values[6] as string,
            status: values[7] as string,
          },
  }),
  {
    name: 'gatehouse_oauth_artifacts_read_ahead',
    // The redemptions of one turn (db/hot-query.ts PostgresBatch), joined as the one-row query
    // joins them.
    sql: `select a.payload_json, a.consumed_at, g.payload_json, g.consumed_at,
        u.id, u.email, u.name, u.status, l.position::int
      from unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
        with ordinality as l(grant_now, model, id, now, position)
      join oauth_artifacts a
        on a.model = l.model and a.id = l.id and (a.expires_at is null or a.expires_at > l.now)
      left join oauth_artifacts g
        on g.model = 'Grant' and g.id = a.grant_id and (g.expires_at is null or g.expires_at > l.grant_now)
      left join users u on u.id = a.account_id`,
  },
);

/**
 * model, id, payload_json, grant_id, user_code, uid, expires_at, account_id. One statement, so
 * two nodes saving the same artifact cannot interleave a delete and an insert. consumed_at is left as
 * it was on replace: a model's save() writes its whole payload again, and a re-save racing a
 * consume() on another node must not undo the consumption, or a code or refresh token could
 * be redeemed twice.
 */
const upsertArtifact = hotStatement(
  'gatehouse_oauth_artifact_upsert',
  (db) =>
    db
      .insertInto('oauth_artifacts')
      .values({
        model: '',
        id: '',
        payload_json: '',
        grant_id: '',
        user_code: '',
        uid: '',
        expires_at: 0,
        account_id: '',
      })
      .onConflict((oc) =>
        oc.columns(['model', 'id']).doUpdateSet((eb) => ({
          payload_json: eb.ref('excluded.payload_json'),
          grant_id: eb.ref('excluded.grant_id'),
          user_code: eb.ref('excluded.user_code'),
          uid: eb.ref('excluded.uid'),
          expires_at: eb.ref('excluded.expires_at'),
          account_id: eb.ref('excluded.account_id'),
        })),
      ),
  {
    name: 'gatehouse_oauth_artifacts_upsert',
    // The saves of one turn (db/hot-query.ts PostgresBatch): a token request's new artifacts.
    // Two saves of one artifact in a batch make it fail, and they then run one by one.
    sql: `with l as (
        select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
          $7::bigint[], $8::text[])
          with ordinality as l(model, id, payload_json, grant_id, user_code, uid, expires_at, account_id, position)
      ), stored as (
        insert into oauth_artifacts (model, id, payload_json, grant_id, user_code, uid, expires_at, account_id)
        select model, id, payload_json, grant_id, user_code, uid, expires_at, account_id from l
        on conflict (model, id) do update set payload_json = excluded.payload_json,
          grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid,
          expires_at = excluded.expires_at, account_id = excluded.account_id
        returning model, id
      )
      select l.position::int from stored join l on l.model = stored.model and l.id = stored.id`,
  },
);

/** consumed_at, model, id */
const consumeArtifact = hotStatement(
  'gatehouse_oauth_artifact_consume',
  (db) =>
    db
      .updateTable('oauth_artifacts')
      .set({ consumed_at: 0 })
      .where('model', '=', '')
      .where('id', '=', '')
      .where('consumed_at', 'is', null),
  {
    name: 'gatehouse_oauth_artifacts_consume',
    // The redemptions of one turn (db/hot-query.ts PostgresBatch): refresh tokens and codes.
    // One artifact redeemed twice in the turn (a raced refresh token) counts for the first
    // of them only: a row is updated once per statement, so only that one may say it was.
    sql: `with l as (
        select * from unnest($1::bigint[], $2::text[], $3::text[])
          with ordinality as l(consumed_at, model, id, position)
      ), f as (
        select distinct on (model, id) * from l order by model, id, position
      )
      update oauth_artifacts a set consumed_at = f.consumed_at from f
      where a.model = f.model and a.id = f.id and a.consumed_at is null
      returning f.position::int`,
  },
);

/** model, id */
const destroyArtifact = hotStatement('gatehouse_oauth_artifact_destroy', (db) =>
  db.deleteFrom('oauth_artifacts').where('model', '=', '').where('id', '=', ''),
);

/**
 * The adapter class for oidc-provider's `adapter` setting; it calls `new Adapter(modelName)`
 * once per model (AccessToken, AuthorizationCode, Session, Interaction, Grant, Client, …).
 */
export function createOauthAdapter(deps: OauthAdapterDeps): new (name: string) => OauthAdapter {
  const { db, clock } = deps;
  const owner = { db };
  // Every token request reads its client; registrations change rarely (a dynamic
  // registration, a deleted client). The row's JSON is what is kept: each find parses its
  // own copy, since oidc-provider may keep or change the object it is handed.
  const clients = deps.clientCache && {
    cache: createSharedCache<string>(deps.clientCache.notifications, CLIENT_CHANNEL, {
      maxEntries: deps.clientCache.enabled ? deps.clientCache.maxEntries : 0,
    }),
    ttlMs: deps.clientCache.ttlMs,
    ctx: { db, clock, log: deps.clientCache.log, requestId: 'oauth-client-cache' } satisfies Ctx,
  };

  async function storedClient(id: string): Promise<OauthPayload | undefined> {
    if (!clients) return findLive('Client', 'id', id);
    const { cache, ctx, ttlMs } = clients;
    const now = clock.now();
    const cached = cache.get(ctx, id, now);
    if (cached !== undefined) return JSON.parse(cached) as OauthPayload;
    // Taken before the read: a change while it runs keeps the old row out of the cache.
    const ticket = cache.ticket();
    const row = await liveArtifact.id(owner, ['Client', id, now]);
    if (!row) return undefined;
    cache.set(ctx, id, row.payload_json, now + ttlMs, [id], ticket, now);
    return payloadOf(row);
  }

  /** Drops a client's cached registration here at once and on every other node. */
  async function clientChanged(id: string): Promise<void> {
    if (clients) await clients.cache.invalidate(clients.ctx, id);
  }

  async function findLive(model: string, column: Lookup, value: string): Promise<OauthPayload | undefined> {
    const row = await liveArtifact[column](owner, [model, value, clock.now()]);
    return row ? payloadOf(row) : undefined;
  }

  /** The artifact, with its grant and user kept for the library's next reads (ReadAhead). */
  async function findReadingAhead(
    readAhead: ReadAhead,
    model: string,
    id: string,
  ): Promise<OauthPayload | undefined> {
    const now = clock.now();
    const row = await liveArtifactReadAhead(owner, [now, model, id, now]);
    if (!row) return undefined;
    const payload = payloadOf(row);
    const grantId = stringField(payload, 'grantId');
    if (grantId !== null) readAhead.keep('Grant', grantId, row.grant);
    // No user joined (a row stored before the account_id column, or a user since deleted):
    // nothing is kept, and findAccount reads the user the usual way.
    if (row.account) readAhead.keep('Account', row.account.id, row.account);
    return payload;
  }

  return class SqlOauthAdapter implements OauthAdapter {
    readonly #model: string;

    constructor(name: string) {
      this.#model = name;
    }

    async upsert(id: string, payload: OauthPayload, expiresIn?: number): Promise<void> {
      await upsertArtifact(owner, [
        this.#model,
        id,
        JSON.stringify(payload),
        stringField(payload, 'grantId'),
        stringField(payload, 'userCode'),
        stringField(payload, 'uid'),
        // expiresIn is in seconds; the column, like every time we store, is epoch ms.
        typeof expiresIn === 'number' ? clock.now() + Math.round(expiresIn * 1000) : null,
        stringField(payload, 'accountId'),
      ]);
      if (this.#model === 'Client') await clientChanged(id);
      if (this.#model === 'Grant') deps.readAhead?.forget('Grant', id);
    }

    async find(id: string): Promise<OauthPayload | undefined> {
      const model = this.#model;
      if (model === 'Client') {
        if (deps.clientDocuments?.isDocumentUrl(id)) return deps.clientDocuments.resolve(id);
        if (deps.serviceAccountClients?.isServiceAccountClient(id))
          return deps.serviceAccountClients.metadataOf(id);
        return storedClient(id);
      }
      const { readAhead } = deps;
      if (readAhead && model === 'Grant') {
        const kept = readAhead.take('Grant', id);
        if (kept !== NOT_READ_AHEAD) return kept && payloadOf(kept);
      }
      if (readAhead && READ_AHEAD_MODELS.has(model)) return findReadingAhead(readAhead, model, id);
      return findLive(model, 'id', id);
    }

    /** Device flow (RFC 8628 §3.3): the code the user types on the verification page. */
    findByUserCode(userCode: string): Promise<OauthPayload | undefined> {
      return findLive(this.#model, 'user_code', userCode);
    }

    findByUid(uid: string): Promise<OauthPayload | undefined> {
      return findLive(this.#model, 'uid', uid);
    }

    /**
     * Marks the code or refresh token spent, once: of two requests redeeming the same one at
     * the same moment (both read it unspent), the second changes no row and is refused, so a
     * stolen refresh token raced against its owner never yields a second token chain. The
     * library checks `consumed` before it calls this; the conditional update closes the gap
     * between that read and this write.
     */
    async consume(id: string): Promise<void> {
      const changed = await consumeArtifact(owner, [clock.now(), this.#model, id]);
      if (changed === 0) {
        // The library is loaded by now (it is the caller); importing it here, not at the top,
        // keeps operator commands from loading it (see createOauthProvider).
        const { errors } = await import('oidc-provider');
        throw new errors.InvalidGrant(`${this.#model} already used`);
      }
    }

    async destroy(id: string): Promise<void> {
      if (this.#model === 'Grant') deps.readAhead?.forget('Grant', id);
      await destroyArtifact(owner, [this.#model, id]);
      if (this.#model === 'Client') await clientChanged(id);
    }

    /**
     * Every artifact issued under the grant, whatever this adapter's model: oidc-provider
     * calls this once per token model on revocation (RFC 7009 §2.1), so deleting them all at
     * the first call leaves nothing for a concurrent request on another node to redeem.
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      deps.readAhead?.forget('Grant', grantId);
      await db.deleteFrom('oauth_artifacts').where('grant_id', '=', grantId).execute();
    }
  };
}

/**
 * Deletes the artifacts past their expiry, which find() already refuses, so the table does
 * not grow without bound; main.ts runs it on a timer. Returns how many rows went.
 */
export async function purgeExpiredOauthArtifacts(ctx: Ctx): Promise<number> {
  const result = await ctx.db
    .deleteFrom('oauth_artifacts')
    .where('expires_at', '<=', ctx.clock.now())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function payloadOf(row: LiveRow): OauthPayload {
  const payload = JSON.parse(row.payload_json) as OauthPayload;
  // oidc-provider reads `consumed` as epoch seconds, like every time in its payloads.
  if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
  return payload;
}

function stringField(payload: OauthPayload, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' ? value : null;
}
