// Normalization and checks shared by the API and the operator CLI, so a slug or an email
// means the same thing whichever door it came through.
import { GatehouseError } from '../core/errors.ts';
import { tenancyErrors } from './errors.ts';

export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])$';
const slugRegex = new RegExp(SLUG_PATTERN);
// Deliberately loose (RFC 5322 is larger than anyone needs) but rejects the obvious mistakes.
const emailRegex = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

export function checkSlug(slug: string, field = 'slug'): string {
  if (!slugRegex.test(slug)) throw new GatehouseError(tenancyErrors.invalidSlug, { field });
  return slug;
}

export function checkEmail(email: string, field = 'email'): string {
  const trimmed = email.trim();
  if (trimmed.length > 254 || !emailRegex.test(trimmed))
    throw new GatehouseError(tenancyErrors.invalidEmail, { field });
  return trimmed;
}

export function checkPassword(password: string, field = 'password'): string {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new GatehouseError(tenancyErrors.weakPassword, { field });
  }
  return password;
}
