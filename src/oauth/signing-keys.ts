// The keys that sign the authorization server's JWT access tokens (RFC 9068 §2; ES256, RFC
// 7518 §3.4), shared by every node through `oauth_signing_keys`. A key is published in the JWK
// Set (RFC 7517 §5) as `next` before it signs, signs as `current`, and stays published as
// `retired` until the tokens it signed have expired, so no rotation breaks a verifier holding
// a cached key set (the rollover of OpenID Connect Core §10.1.1). Private halves are stored
// only as envelopes under the master key. The SQL lives here, beside its only caller: five
// small statements on one table did not earn a store.ts of their own.
import { generateKeyPairSync, type JsonWebKey, randomBytes } from 'node:crypto';
import type { AuditEventInput, AuditService } from '../audit/index.ts';
import { type Clock, DAY, isoTime } from '../core/clock.ts';
import {
  decryptSecret,
  encryptSecret,
  type MasterKeyRing,
  parseEnvelope,
  serializeEnvelope,
} from '../core/secrets.ts';
import { type Ctx, type OauthSigningKeysTable, withTx } from '../db/index.ts';

/** A published signing key (RFC 7517 §4): the public half, named by `kid`. */
export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/** A signing key with its private scalar `d` (RFC 7518 §6.2.2.1), as oidc-provider's `jwks` takes it. */
export interface PrivateJwk extends PublicJwk {
  d: string;
}

export type SigningKeyState = 'next' | 'current' | 'retired';

/** What one read of the published keys gives: what to sign with, and what to serve. */
export interface KeySet {
  /** The current key's private JWK. */
  readonly signing: PrivateJwk;
  /**
   * Every published key with its private half, the current one first: oidc-provider signs
   * with the first key of `jwks.keys` whose alg fits and publishes the public halves of all.
   */
  readonly privateKeys: PrivateJwk[];
  /** The JWK Set to serve at jwks_uri (RFC 7517 §5), as stored. */
  readonly published: PublicJwk[];
}

/** Another node rotated at the same moment: nothing was changed here, and nothing needs to be. */
export class ConcurrentRotationError extends Error {
  constructor() {
    super('Another node rotated the OAuth signing keys at the same time; nothing was changed.');
    this.name = 'ConcurrentRotationError';
  }
}

export interface SigningKeysDeps {
  readonly keyRing: MasterKeyRing;
  readonly clock: Clock;
  readonly audit: AuditService;
  /**
   * How long a retired key stays published, and after which a rotation deletes it. It must
   * outlast the longest-lived access token, or tokens signed just before a rotation stop
   * verifying before they expire. Defaults to 24 h.
   */
  readonly retainRetiredMs?: number;
}

export interface SigningKeys {
  ensure(ctx: Ctx): Promise<void>;
  rotate(ctx: Ctx): Promise<{ current: string; next: string; retired: string }>;
  load(ctx: Ctx): Promise<KeySet>;
  /** The current key and when it began signing (epoch ms), if there is one. */
  currentKey(ctx: Ctx): Promise<{ readonly id: string; readonly since: number } | undefined>;
}

type Row = OauthSigningKeysTable;

const ALG = 'ES256';
const DEFAULT_RETAIN_RETIRED_MS = DAY;
const TABLE = 'oauth_signing_keys';
const aad = (id: string) => `oauth_signing_key:${id}`;

const byAge = (a: Row, b: Row): number =>
  a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// The current key that wins when a race left two: the first activated. Every node sorts the
// same rows the same way, so all of them pick the same key to sign with and to keep.
const byActivation = (a: Row, b: Row): number => (a.activated_at ?? 0) - (b.activated_at ?? 0) || byAge(a, b);

const STATE_RANK: Readonly<Record<string, number>> = { current: 0, next: 1, retired: 2 };

/** The signing key first, then the rest by state and age: the order oidc-provider wants. */
const signingOrder = (a: Row, b: Row): number =>
  (STATE_RANK[a.state] ?? 3) - (STATE_RANK[b.state] ?? 3) ||
  (a.state === 'current' ? byActivation(a, b) : byAge(a, b));

function auditActor(ctx: Ctx): AuditEventInput['actor'] {
  // Start-up and rotation timers run without a principal: name them as the system, not anonymous.
  return ctx.principal
    ? { kind: ctx.principal.kind, id: ctx.principal.id }
    : { kind: 'system', id: 'oauth-signing-keys' };
}

async function selectByState(ctx: Ctx, states: readonly SigningKeyState[]): Promise<Row[]> {
  return ctx.db.selectFrom(TABLE).selectAll().where('state', 'in', states).execute();
}

export function createSigningKeys(deps: SigningKeysDeps): SigningKeys {
  const { keyRing, clock, audit } = deps;
  const retainRetiredMs = deps.retainRetiredMs ?? DEFAULT_RETAIN_RETIRED_MS;

  const append = (ctx: Ctx, input: Omit<AuditEventInput, 'orgId' | 'actor'>) =>
    audit.append(ctx, { ...input, orgId: null, actor: auditActor(ctx) });

  /**
   * A fresh P-256 key pair. The kid is public (it is in every token header), so a plain random
   * id serves; none of core/ids.ts's prefixes names a signing key.
   */
  function newKeyRow(state: 'current' | 'next', now: number): Row {
    const id = `osk_${randomBytes(16).toString('base64url')}`;
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const names = { kid: id, alg: ALG, use: 'sig' } as const;
    const publicJwk: PublicJwk = { ...publicKey.export({ format: 'jwk' }), ...names };
    const privateJwk = { ...privateKey.export({ format: 'jwk' }), ...names };
    return {
      id,
      alg: ALG,
      public_jwk_json: JSON.stringify(publicJwk),
      private_jwk_envelope: serializeEnvelope(encryptSecret(keyRing, JSON.stringify(privateJwk), aad(id))),
      state,
      created_at: now,
      activated_at: state === 'current' ? now : null,
      retired_at: null,
    };
  }

  async function insertKey(tx: Ctx, state: 'current' | 'next'): Promise<Row> {
    const row = newKeyRow(state, clock.now());
    await tx.db.insertInto(TABLE).values(row).execute();
    await append(tx, {
      action: 'oauth.signing_key_created',
      target: { kind: 'oauth_signing_key', id: row.id },
      data: { alg: row.alg, state },
    });
    return row;
  }

  /** Makes a current key and a next key where there is none; a node finding both does nothing. */
  async function makeMissing(tx: Ctx): Promise<void> {
    const rows = await selectByState(tx, ['current', 'next']);
    if (!rows.some((r) => r.state === 'current')) await insertKey(tx, 'current');
    if (!rows.some((r) => r.state === 'next')) await insertKey(tx, 'next');
  }

  /**
   * Repairs what two nodes starting at once on PostgreSQL can leave: each saw an empty table
   * (a row lock cannot guard rows that do not exist yet, and the migration has no unique
   * partial index on `state = 'current'`), so each made a current and a next key. The first
   * activated current key is kept and the others become `next`; of the next keys the oldest
   * is kept and the others are retired, so any token a loser already signed keeps verifying
   * until retention drops it. Every node sorts the same way, so concurrent repairs agree,
   * and the conditional updates make a repeated repair change (and audit) nothing.
   */
  async function settle(tx: Ctx): Promise<void> {
    const rows = await selectByState(tx, ['current', 'next']);
    const [, ...extraCurrents] = rows.filter((r) => r.state === 'current').sort(byActivation);
    const nexts = [...rows.filter((r) => r.state === 'next'), ...extraCurrents].sort(byAge);
    const [, ...extraNexts] = nexts;
    const now = clock.now();
    /** The ids of `rows` still in state `from` (another repair may have moved them), now moved. */
    const move = async (rows: Row[], from: SigningKeyState, to: Partial<Row>): Promise<string[]> => {
      const moved: string[] = [];
      for (const row of rows) {
        const result = await tx.db
          .updateTable(TABLE)
          .set(to)
          .where('id', '=', row.id)
          .where('state', '=', from)
          .executeTakeFirst();
        if (result.numUpdatedRows > 0n) moved.push(row.id);
      }
      return moved;
    };
    const demoted = await move(extraCurrents, 'current', { state: 'next', activated_at: null });
    const retired = await move(extraNexts, 'next', { state: 'retired', retired_at: now });
    if (demoted.length === 0 && retired.length === 0) return;
    await append(tx, { action: 'oauth.signing_keys_reconciled', data: { demoted, retired } });
  }

  /**
   * Run at every start, on every node. Making keys is one transaction; the repair of a race
   * runs in a second one, because only after its own commit can a node see what another
   * committed meanwhile (the last of two racing nodes to commit always sees both). Called
   * inside an open transaction, both steps join it and the repair sees only what that
   * transaction can.
   */
  async function ensure(ctx: Ctx): Promise<void> {
    await withTx(ctx, makeMissing);
    await withTx(ctx, settle);
  }

  /** Deletes retired keys past retention: no unexpired token can carry their kid any more. */
  async function dropExpired(tx: Ctx, now: number): Promise<void> {
    const dropped = await tx.db
      .deleteFrom(TABLE)
      .where('state', '=', 'retired')
      .where('retired_at', '<', now - retainRetiredMs)
      .returning(['id', 'retired_at'])
      .execute();
    for (const row of dropped) {
      await append(tx, {
        action: 'oauth.signing_key_deleted',
        target: { kind: 'oauth_signing_key', id: row.id },
        data: { retired_at: row.retired_at === null ? null : isoTime(Number(row.retired_at)) },
      });
    }
  }

  /**
   * current → retired, next → current, a new next; then retired keys past retention are
   * deleted, all in one transaction. Retiring the current key goes first: on PostgreSQL it
   * locks that row, so a second node rotating at the same time waits, then finds no current
   * key left to retire and fails without changing anything.
   */
  async function rotate(ctx: Ctx): Promise<{ current: string; next: string; retired: string }> {
    return withTx(ctx, async (tx) => {
      await makeMissing(tx);
      const now = clock.now();
      const retiredRows = await tx.db
        .updateTable(TABLE)
        .set({ state: 'retired', retired_at: now })
        .where('state', '=', 'current')
        .returningAll()
        .execute();
      const [retired] = retiredRows.sort(byActivation);
      const [promoted] = (await selectByState(tx, ['next'])).sort(byAge);
      if (!retired || !promoted) throw new ConcurrentRotationError();
      await tx.db
        .updateTable(TABLE)
        .set({ state: 'current', activated_at: now })
        .where('id', '=', promoted.id)
        .execute();
      const next = await insertKey(tx, 'next');
      const result = { current: promoted.id, next: next.id, retired: retired.id };
      await append(tx, {
        action: 'oauth.signing_keys_rotated',
        target: { kind: 'oauth_signing_key', id: promoted.id },
        data: { ...result, also_retired: retiredRows.slice(1).map((r) => r.id) },
      });
      await dropExpired(tx, now);
      return result;
    });
  }

  /** Next, current and retired-within-retention keys, the signing key first; none means ensure() never ran. */
  async function publishedRows(ctx: Ctx): Promise<Row[]> {
    const cutoff = clock.now() - retainRetiredMs;
    const rows = await ctx.db
      .selectFrom(TABLE)
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('state', 'in', ['current', 'next']),
          eb.and([eb('state', '=', 'retired'), eb('retired_at', '>=', cutoff)]),
        ]),
      )
      .execute();
    rows.sort(signingOrder);
    if (rows[0]?.state !== 'current')
      throw new Error('There is no current OAuth signing key; ensure() makes one at start-up.');
    return rows;
  }

  /**
   * decryptSecret's own messages are fixed strings without key material; the wrapper names
   * the key and what the operator can do, and keeps the original as `cause`.
   */
  function openPrivateJwk(row: Row): PrivateJwk {
    let sealedUnder = 'an unreadable envelope';
    try {
      const envelope = parseEnvelope(row.private_jwk_envelope);
      sealedUnder = `master key ${envelope.kid}`;
      return JSON.parse(decryptSecret(keyRing, envelope, aad(row.id))) as PrivateJwk;
    } catch (error) {
      throw new Error(
        `The master key cannot decrypt OAuth signing key ${row.id} (sealed under ${sealedUnder}; ` +
          `this node has master key ${keyRing.currentKeyId}). Start Gatehouse with the master key ` +
          'that sealed it.',
        { cause: error },
      );
    }
  }

  const publicJwkOf = (row: Row): PublicJwk => JSON.parse(row.public_jwk_json) as PublicJwk;

  async function load(ctx: Ctx): Promise<KeySet> {
    const rows = await publishedRows(ctx);
    const privateKeys = rows.map(openPrivateJwk);
    return { signing: privateKeys[0]!, privateKeys, published: rows.map(publicJwkOf) };
  }

  async function currentKey(ctx: Ctx): Promise<{ id: string; since: number } | undefined> {
    const [current] = (await selectByState(ctx, ['current'])).sort(byActivation);
    return current ? { id: current.id, since: current.activated_at ?? current.created_at } : undefined;
  }

  return { ensure, rotate, load, currentKey };
}
