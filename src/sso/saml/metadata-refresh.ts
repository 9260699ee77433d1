// Keeps SAML connections with a metadata URL current (SPEC §3): main.ts runs this on a
// timer, so when an IdP rotates its signing certificate (publishing the new one next to the
// old) Gatehouse trusts both without an admin, and the change is audited. A certificate
// about to expire is warned about in the log and, once per certificate, in the audit log.
import { X509Certificate } from 'node:crypto';
import type { AuditService } from '../../audit/index.ts';
import { DAY } from '../../core/clock.ts';
import { type Ctx, withTx } from '../../db/index.ts';
import * as store from '../store.ts';
import { certificateExpiry, fetchIdpMetadata } from './metadata.ts';
import type { SamlSettings } from './service-provider.ts';

/** How long before its expiry an IdP certificate is warned about. */
export const CERTIFICATE_WARNING_MS = 30 * DAY;

type StoredSamlSettings = SamlSettings & { readonly expiry_warned?: readonly string[] };

export interface RefreshResult {
  checked: number;
  changed: number;
  failed: number;
  expiring: number;
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

export function createMetadataRefresh(deps: {
  audit: AuditService;
  acceptableUrl: (url: string) => boolean;
  onChanged: (connectionId: string) => void;
}) {
  async function warnOfExpiry(
    ctx: Ctx,
    row: store.ConnectionRow,
    settings: StoredSamlSettings,
  ): Promise<string[]> {
    const warned = new Set(settings.expiry_warned ?? []);
    const now = ctx.clock.now();
    const newly: string[] = [];
    for (const pem of settings.idp_certificates) {
      const expiresAt = certificateExpiry(pem);
      const fingerprint = fingerprintOf(pem);
      if (expiresAt - now > CERTIFICATE_WARNING_MS || warned.has(fingerprint)) continue;
      ctx.log.warn(
        {
          connection_id: row.id,
          org_id: row.org_id,
          fingerprint,
          expires_at: new Date(expiresAt).toISOString(),
        },
        'an SSO identity provider certificate expires soon',
      );
      await deps.audit.append(ctx, {
        orgId: row.org_id,
        action: 'sso.idp_certificate_expiring',
        actor: { kind: 'system', id: 'metadata-refresh' },
        target: { kind: 'sso_connection', id: row.id },
        data: { fingerprint_sha256: fingerprint, expires_at: new Date(expiresAt).toISOString() },
      });
      newly.push(fingerprint);
    }
    return newly;
  }

  /** Whether the connection's certificates changed, and whether one of the current ones expires soon. */
  async function refreshOne(
    ctx: Ctx,
    row: store.ConnectionRow,
  ): Promise<{ changed: boolean; expiring: boolean }> {
    const settings = JSON.parse(row.settings_json) as StoredSamlSettings;
    let next: StoredSamlSettings = settings;
    if (settings.metadata_url) {
      const metadata = await fetchIdpMetadata(settings.metadata_url, deps.acceptableUrl);
      next = {
        ...settings,
        idp_entity_id: metadata.entityId,
        idp_sso_url: metadata.ssoUrl,
        idp_certificates: [...metadata.certificates],
      };
    }
    const before = settings.idp_certificates.map(fingerprintOf);
    const after = next.idp_certificates.map(fingerprintOf);
    const changed =
      before.join() !== after.join() ||
      next.idp_entity_id !== settings.idp_entity_id ||
      next.idp_sso_url !== settings.idp_sso_url;
    const now = ctx.clock.now();
    const expiring = next.idp_certificates.some(
      (pem) => certificateExpiry(pem) - now <= CERTIFICATE_WARNING_MS,
    );
    return withTx(ctx, async (tx) => {
      const warned = await warnOfExpiry(tx, row, next);
      if (!changed && warned.length === 0) return { changed, expiring };
      const stored: StoredSamlSettings = {
        ...next,
        expiry_warned: [...(settings.expiry_warned ?? []), ...warned],
      };
      await store.updateConnection(tx, row.id, {
        settings_json: JSON.stringify(stored),
        ...(changed ? { updated_at: tx.clock.now() } : {}),
      });
      if (changed) {
        await deps.audit.append(tx, {
          orgId: row.org_id,
          action: 'sso.idp_certificates_changed',
          actor: { kind: 'system', id: 'metadata-refresh' },
          target: { kind: 'sso_connection', id: row.id },
          data: { before, after, idp_entity_id: next.idp_entity_id, idp_sso_url: next.idp_sso_url },
        });
        deps.onChanged(row.id);
      }
      return { changed, expiring };
    });
  }

  /** Re-reads the metadata of every SAML connection that has a URL; one failing IdP does not stop the others. */
  async function refreshSamlMetadata(ctx: Ctx): Promise<RefreshResult> {
    const result: RefreshResult = { checked: 0, changed: 0, failed: 0, expiring: 0 };
    for (const row of await store.selectSamlConnections(ctx)) {
      result.checked += 1;
      try {
        const refreshed = await refreshOne(ctx, row);
        if (refreshed.changed) result.changed += 1;
        if (refreshed.expiring) result.expiring += 1;
      } catch (error) {
        result.failed += 1;
        ctx.log.warn(
          { connection_id: row.id, reason: (error as Error).message },
          'could not refresh SAML IdP metadata',
        );
      }
    }
    return result;
  }

  return { refreshSamlMetadata };
}
