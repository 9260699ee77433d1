// What every tenancy list shares: its query and the cursor of the page before.
import { commonErrors, GatehouseError } from '../core/errors.ts';
import { decodeCursor } from '../core/pagination.ts';

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

export interface ListQuery {
  cursor?: string;
  limit: number;
}
