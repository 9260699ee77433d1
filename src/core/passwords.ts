// Passwords are stored only as argon2id hashes (SPEC §3, §12). The parameters follow
// OWASP's argon2id floor (19 MiB, t=2, p=1): ~50 verifications/s/core here, which is the
// point. Verification of an unknown account runs against a dummy hash so it takes as long.
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

let dummyHash: Promise<string> | undefined;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= argon2.hash('gatehouse-timing-equalizer', OPTIONS);
    await argon2.verify(await dummyHash, password);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
