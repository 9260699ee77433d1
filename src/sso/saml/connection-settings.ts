// The settings of a SAML connection (SPEC §3): built from the IdP's metadata (pasted XML, a
// URL fetched now, or its parts by hand) and the admin's choices, patched later, and shown
// with what the admin gives the IdP (SP entity id, ACS, SP metadata URL). No secrets: a SAML
// connection trusts the IdP's public certificates.
import { X509Certificate } from 'node:crypto';
import { isoTime } from '../../core/clock.ts';
import { GatehouseError } from '../../core/errors.ts';
import { ssoErrors } from '../errors.ts';
import { findSamlPreset } from '../presets.ts';
import type * as store from '../store.ts';
import {
  certificateExpiry,
  fetchIdpMetadata,
  type IdpMetadata,
  parseIdpMetadata,
  toPem,
} from './metadata.ts';
import { type SamlSettings, samlEndpoints } from './service-provider.ts';
import { XmlRefused } from './xml.ts';

/** The SAML fields of a connection's create or update input. */
export interface SamlConnectionInput {
  /** The IdP's metadata, as XML or a URL to fetch it from; or its parts by hand. */
  metadata_xml?: string;
  metadata_url?: string;
  idp_entity_id?: string;
  idp_sso_url?: string;
  idp_certificates?: string[];
  allow_sha1?: boolean;
  allow_unsolicited?: boolean;
  trust_email?: boolean;
  email_attribute?: string;
  name_attribute?: string;
  groups_attribute?: string;
  preset?: string;
}

export interface SamlConnectionView {
  id: string;
  type: 'saml';
  name: string;
  preset: string;
  enabled: boolean;
  idp_entity_id: string;
  idp_sso_url: string;
  idp_certificates: { not_after: string; fingerprint_sha256: string }[];
  metadata_url: string | null;
  allow_sha1: boolean;
  allow_unsolicited: boolean;
  trust_email: boolean;
  email_attribute: string;
  name_attribute: string;
  groups_attribute: string;
  /** What the admin gives the IdP. */
  sp_entity_id: string;
  acs_url: string;
  sp_metadata_url: string;
  created_at: string;
  updated_at: string;
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

export function createSamlConnectionSettings(deps: {
  readonly publicUrl: string;
  readonly acceptableUrl: (url: string) => boolean;
}) {
  function view(row: store.ConnectionRow): SamlConnectionView {
    const settings = JSON.parse(row.settings_json) as SamlSettings;
    const endpoints = samlEndpoints(deps.publicUrl, row.id);
    return {
      id: row.id,
      type: 'saml',
      name: row.name,
      preset: row.preset,
      enabled: row.enabled === 1,
      idp_entity_id: settings.idp_entity_id,
      idp_sso_url: settings.idp_sso_url,
      idp_certificates: settings.idp_certificates.map((pem) => ({
        not_after: isoTime(certificateExpiry(pem)),
        fingerprint_sha256: fingerprint(pem),
      })),
      metadata_url: settings.metadata_url,
      allow_sha1: settings.allow_sha1,
      allow_unsolicited: settings.allow_unsolicited,
      trust_email: settings.trust_email,
      email_attribute: settings.email_attribute,
      name_attribute: settings.name_attribute,
      groups_attribute: settings.groups_attribute,
      sp_entity_id: endpoints.entityId,
      acs_url: endpoints.acsUrl,
      sp_metadata_url: endpoints.entityId,
      created_at: isoTime(row.created_at),
      updated_at: isoTime(row.updated_at),
    };
  }

  /** The IdP's metadata from the input: pasted XML, a URL (fetched now), or its parts by hand. */
  async function readMetadata(input: SamlConnectionInput): Promise<IdpMetadata | undefined> {
    try {
      if (input.metadata_xml !== undefined) return parseIdpMetadata(input.metadata_xml);
      if (input.metadata_url !== undefined)
        return await fetchIdpMetadata(input.metadata_url, deps.acceptableUrl);
    } catch (error) {
      const field = input.metadata_xml !== undefined ? 'metadata_xml' : 'metadata_url';
      const reason =
        error instanceof XmlRefused ? error.message : `could not be fetched: ${(error as Error).message}`;
      throw new GatehouseError(ssoErrors.metadataInvalid, {
        field,
        message: `The IdP metadata is not usable: ${reason}.`,
        cause: error,
      });
    }
    if (
      input.idp_entity_id === undefined &&
      input.idp_sso_url === undefined &&
      input.idp_certificates === undefined
    )
      return undefined;
    if (!input.idp_entity_id || !input.idp_sso_url || !input.idp_certificates?.length)
      throw new GatehouseError(ssoErrors.metadataInvalid, {
        field: !input.idp_entity_id
          ? 'idp_entity_id'
          : !input.idp_sso_url
            ? 'idp_sso_url'
            : 'idp_certificates',
        message: 'Without metadata, a SAML connection needs idp_entity_id, idp_sso_url and idp_certificates.',
      });
    if (!deps.acceptableUrl(input.idp_sso_url))
      throw new GatehouseError(ssoErrors.metadataInvalid, {
        field: 'idp_sso_url',
        message: 'idp_sso_url must be an https URL.',
      });
    const certificates = input.idp_certificates.map((raw, i) => {
      try {
        return toPem(raw.replace(/-----(BEGIN|END) CERTIFICATE-----/g, ''));
      } catch (error) {
        throw new GatehouseError(ssoErrors.metadataInvalid, {
          field: `idp_certificates[${i}]`,
          message: 'This is not an X.509 certificate.',
          cause: error,
        });
      }
    });
    return { entityId: input.idp_entity_id, ssoUrl: input.idp_sso_url, certificates };
  }

  async function fromInput(input: SamlConnectionInput) {
    const presetId = input.preset ?? 'generic_saml';
    const preset = findSamlPreset(presetId);
    if (!preset) throw new GatehouseError(ssoErrors.unknownPreset, { field: 'preset' });
    const metadata = await readMetadata(input);
    if (!metadata)
      throw new GatehouseError(ssoErrors.metadataInvalid, {
        field: 'metadata_xml',
        message: 'Give the IdP metadata (metadata_xml or metadata_url) or its parts.',
      });
    const settings: SamlSettings = {
      idp_entity_id: metadata.entityId,
      idp_sso_url: metadata.ssoUrl,
      idp_certificates: [...metadata.certificates],
      metadata_url: input.metadata_url ?? null,
      allow_sha1: input.allow_sha1 ?? false,
      allow_unsolicited: input.allow_unsolicited ?? false,
      trust_email: input.trust_email ?? false,
      email_attribute: input.email_attribute ?? preset.emailAttribute,
      name_attribute: input.name_attribute ?? preset.nameAttribute,
      groups_attribute: input.groups_attribute ?? preset.groupsAttribute,
    };
    return {
      presetId,
      settings,
      audit: {
        idp_entity_id: settings.idp_entity_id,
        certificates: settings.idp_certificates.map(fingerprint),
        allow_sha1: settings.allow_sha1,
      },
    };
  }

  async function patched(row: store.ConnectionRow, patch: SamlConnectionInput): Promise<SamlSettings> {
    const settings = JSON.parse(row.settings_json) as SamlSettings;
    const metadata = await readMetadata({
      ...patch,
      // Parts given alone complete the ones already stored.
      ...(patch.metadata_xml === undefined &&
      patch.metadata_url === undefined &&
      (patch.idp_entity_id || patch.idp_sso_url || patch.idp_certificates)
        ? {
            idp_entity_id: patch.idp_entity_id ?? settings.idp_entity_id,
            idp_sso_url: patch.idp_sso_url ?? settings.idp_sso_url,
            idp_certificates: patch.idp_certificates ?? [...settings.idp_certificates],
          }
        : {}),
    });
    return {
      ...settings,
      ...(metadata
        ? {
            idp_entity_id: metadata.entityId,
            idp_sso_url: metadata.ssoUrl,
            idp_certificates: [...metadata.certificates],
          }
        : {}),
      ...(patch.metadata_url !== undefined ? { metadata_url: patch.metadata_url } : {}),
      ...(patch.metadata_xml !== undefined ? { metadata_url: null } : {}),
      ...(patch.allow_sha1 !== undefined ? { allow_sha1: patch.allow_sha1 } : {}),
      ...(patch.allow_unsolicited !== undefined ? { allow_unsolicited: patch.allow_unsolicited } : {}),
      ...(patch.trust_email !== undefined ? { trust_email: patch.trust_email } : {}),
      ...(patch.email_attribute !== undefined ? { email_attribute: patch.email_attribute } : {}),
      ...(patch.name_attribute !== undefined ? { name_attribute: patch.name_attribute } : {}),
      ...(patch.groups_attribute !== undefined ? { groups_attribute: patch.groups_attribute } : {}),
    };
  }

  return { view, fromInput, patched };
}
