// Cursor pagination: the cursor is the last id of the previous page (ids are time-ordered),
// wrapped in base64url so callers treat it as opaque.
import { commonErrors, GatehouseError } from './errors.ts';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** Returns undefined for a cursor that does not decode, so the caller can reject it by name. */
export function decodeCursor(cursor: string): string | undefined {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[a-z]{3}_[0-9a-z]{26}$/.test(decoded) ? decoded : undefined;
}

/** Builds a page from limit+1 fetched rows. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

/** The id a list resumes after, or a 400 naming `cursor` when the cursor does not decode. */
export function listCursorAfter(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const after = decodeCursor(cursor);
  if (after === undefined)
    throw new GatehouseError(commonErrors.invalidRequest, {
      field: 'cursor',
      message: 'The cursor is not valid.',
    });
  return after;
}

/** What every list takes: the cursor of the page before and the page size. */
export interface ListQuery {
  cursor?: string;
  limit: number;
}
