// Email domains an org claims (SPEC §3). A claim is verified by a DNS TXT record at
// `_gatehouse-verification.<domain>` holding the claim's token, or asserted by the
// instance operator (`gatehouse admin verify-domain`) where DNS cannot be reached.

export const VERIFICATION_RECORD_PREFIX = '_gatehouse-verification';

// Letters, digits and hyphens per label, at least two labels, no label over 63, total ≤ 253.
const DOMAIN_PATTERN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-cased, trailing dot removed; undefined when it is not a domain name. */
export function normalizeDomain(raw: string): string | undefined {
  const domain = raw.trim().toLowerCase().replace(/\.$/, '');
  return DOMAIN_PATTERN.test(domain) ? domain : undefined;
}

/** The domain of an email address as Gatehouse compares it, or undefined. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  return at < 1 ? undefined : normalizeDomain(email.slice(at + 1));
}

export function verificationRecord(domain: string, token: string): { name: string; value: string } {
  return { name: `${VERIFICATION_RECORD_PREFIX}.${domain}`, value: `gatehouse-domain-verification=${token}` };
}
