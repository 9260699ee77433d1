// Claiming, verifying and releasing an org's email domains (SPEC §3). Until a claim is
// verified it routes no one and admits no one. DNS verification looks for the TXT record;
// the operator's assertion (air-gapped installs) is recorded as such in the audit log.
import { resolveTxt } from 'node:dns/promises';
import type { AuditService } from '../../audit/index.ts';
import { isRole, type Role } from '../../authz/index.ts';
import { isoTime } from '../../core/clock.ts';
import { GatehouseError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { generateSecret } from '../../core/secrets.ts';
import { type Ctx, withTx } from '../../db/index.ts';
import { ssoErrors } from '../errors.ts';
import * as store from '../store.ts';
import { normalizeDomain, verificationRecord } from './domains.ts';

export interface DomainView {
  id: string;
  domain: string;
  connection_id: string | null;
  default_role: Role;
  verified: boolean;
  verified_by: string | null;
  verified_at: string | null;
  verification_record: { type: 'TXT'; name: string; value: string };
  created_at: string;
}

function toView(row: store.DomainRow): DomainView {
  const record = verificationRecord(row.domain, row.verification_token);
  return {
    id: row.id,
    domain: row.domain,
    connection_id: row.connection_id,
    default_role: isRole(row.default_role) ? row.default_role : 'user',
    verified: row.verified_at !== null,
    verified_by: row.verified_by,
    verified_at: row.verified_at === null ? null : isoTime(row.verified_at),
    verification_record: { type: 'TXT', ...record },
    created_at: isoTime(row.created_at),
  };
}

/** TXT lookups; replaced in tests by a resolver that answers from a table (DNS is out of reach). */
export type TxtResolver = (name: string) => Promise<string[][]>;

export function createDomainFunctions(deps: { audit: AuditService; resolveTxt?: TxtResolver }) {
  const lookup = deps.resolveTxt ?? resolveTxt;

  async function requireDomain(ctx: Ctx, orgId: string, id: string): Promise<store.DomainRow> {
    const row = await store.selectDomain(ctx, orgId, id);
    if (!row) throw new GatehouseError(ssoErrors.domainNotFound, { field: 'domain_id' });
    return row;
  }

  async function requireConnectionInOrg(ctx: Ctx, orgId: string, connectionId: string | null | undefined) {
    if (connectionId && !(await store.selectConnection(ctx, orgId, connectionId)))
      throw new GatehouseError(ssoErrors.connectionNotFound, { field: 'connection_id' });
  }

  async function addDomain(
    ctx: Ctx,
    orgId: string,
    input: { domain: string; connection_id?: string | null; default_role?: Role },
  ): Promise<DomainView> {
    const domain = normalizeDomain(input.domain);
    if (!domain) throw new GatehouseError(ssoErrors.domainInvalid, { field: 'domain' });
    return withTx(ctx, async (tx) => {
      await requireConnectionInOrg(tx, orgId, input.connection_id);
      const now = tx.clock.now();
      const row: store.DomainRow = {
        id: newId('dom', now),
        org_id: orgId,
        domain,
        connection_id: input.connection_id ?? null,
        default_role: input.default_role ?? 'user',
        verification_token: generateSecret(18),
        verified_at: null,
        verified_by: null,
        created_at: now,
      };
      await store.insertDomain(tx, row);
      await deps.audit.append(tx, {
        orgId,
        action: 'sso.domain_added',
        target: { kind: 'sso_domain', id: row.id },
        data: { domain, connection_id: row.connection_id, default_role: row.default_role },
      });
      return toView(row);
    });
  }

  async function listDomains(ctx: Ctx, orgId: string): Promise<DomainView[]> {
    return (await store.selectDomains(ctx, orgId)).map(toView);
  }

  async function markVerified(ctx: Ctx, row: store.DomainRow, by: 'dns' | 'operator'): Promise<DomainView> {
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      await store.markDomainVerified(tx, row.id, by, now);
      await deps.audit.append(tx, {
        orgId: row.org_id,
        action: 'sso.domain_verified',
        // The operator's assertion comes from the shell, not from a signed-in principal.
        ...(by === 'operator' ? { actor: { kind: 'system' as const, id: 'operator' } } : {}),
        target: { kind: 'sso_domain', id: row.id },
        data: { domain: row.domain, method: by },
      });
      return toView({ ...row, verified_at: now, verified_by: by });
    });
  }

  /** Looks for the TXT record now; the claim stays unverified when it is not there. */
  async function verifyDomainByDns(ctx: Ctx, orgId: string, id: string): Promise<DomainView> {
    const row = await requireDomain(ctx, orgId, id);
    if (row.verified_at !== null) return toView(row);
    const record = verificationRecord(row.domain, row.verification_token);
    let answers: string[][] = [];
    try {
      answers = await lookup(record.name);
    } catch {
      answers = [];
    }
    if (!answers.some((chunks) => chunks.join('') === record.value))
      throw new GatehouseError(ssoErrors.domainVerificationFailed, {
        field: 'domain',
        message: `No TXT record "${record.value}" at ${record.name}.`,
      });
    return markVerified(ctx, row, 'dns');
  }

  /** The instance operator asserts the domain (gatehouse admin verify-domain): for installs without DNS. */
  async function verifyDomainByOperator(ctx: Ctx, domainName: string): Promise<DomainView> {
    const domain = normalizeDomain(domainName);
    const row = domain ? await store.selectDomainByName(ctx, domain) : undefined;
    if (!row) throw new GatehouseError(ssoErrors.domainNotFound, { field: 'domain' });
    if (row.verified_at !== null) return toView(row);
    return markVerified(ctx, row, 'operator');
  }

  async function updateDomain(
    ctx: Ctx,
    orgId: string,
    id: string,
    patch: { connection_id?: string | null; default_role?: Role },
  ): Promise<DomainView> {
    return withTx(ctx, async (tx) => {
      const row = await requireDomain(tx, orgId, id);
      await requireConnectionInOrg(tx, orgId, patch.connection_id);
      const next = {
        connection_id: patch.connection_id === undefined ? row.connection_id : patch.connection_id,
        default_role: patch.default_role ?? row.default_role,
      };
      await store.updateDomainRouting(tx, id, next);
      await deps.audit.append(tx, {
        orgId,
        action: 'sso.domain_updated',
        target: { kind: 'sso_domain', id },
        data: { domain: row.domain, ...next },
      });
      return toView({ ...row, ...next });
    });
  }

  async function removeDomain(ctx: Ctx, orgId: string, id: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const row = await requireDomain(tx, orgId, id);
      await store.deleteDomain(tx, orgId, id);
      await deps.audit.append(tx, {
        orgId,
        action: 'sso.domain_removed',
        target: { kind: 'sso_domain', id },
        data: { domain: row.domain },
      });
    });
  }

  return { addDomain, listDomains, verifyDomainByDns, verifyDomainByOperator, updateDomain, removeDomain };
}
