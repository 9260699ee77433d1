// Resource ids: a readable prefix, then a time-ordered body (48-bit milliseconds + 80
// random bits, Crockford base32), so ids sort by creation and serve as pagination cursors.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export const idPrefixes = {
  org: 'org',
  user: 'usr',
  group: 'grp',
  project: 'prj',
  serviceAccount: 'sva',
  session: 'ses',
  auditEvent: 'evt',
  setupToken: 'stp',
  apiKey: 'key',
  scimToken: 'sct',
  ssoConnection: 'ssc',
  ssoDomain: 'dom',
  roleRule: 'rrl',
  serviceAccountClient: 'gsc',
} as const;

export type IdPrefix = (typeof idPrefixes)[keyof typeof idPrefixes];

function encodeBase32(value: bigint, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(rest & 31n)] + out;
    rest >>= 5n;
  }
  return out;
}

export function newId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  const time = encodeBase32(BigInt(nowMs), 10);
  const random = encodeBase32(BigInt(`0x${randomBytes(10).toString('hex')}`), 16);
  return `${prefix}_${time}${random}`;
}

// Request ids need to be unique, not secret: a random tag per process and a counter, so
// the hot path makes no CSPRNG call per request (it cost ~10 % of a /healthz request).
const processTag = randomBytes(6).toString('base64url');
let requestCounter = 0;

export function newRequestId(): string {
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `req_${processTag}${requestCounter.toString(36).padStart(6, '0')}`;
}
