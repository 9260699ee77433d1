// Lists from the API come in pages (`data`, `next_cursor`); the CLI shows them whole.
import type { Connection } from './connection.ts';

const PAGE_SIZE = 100;
/** A bound on what a list command fetches, so a runaway list cannot run forever. */
const MAX_PAGES = 100;

export async function fetchAllPages<T>(call: Connection['call'], path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const separator = path.includes('?') ? '&' : '?';
    const query = `limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const answer: { data: T[]; next_cursor: string | null } = await call({
      method: 'GET',
      path: `${path}${separator}${query}`,
    });
    items.push(...answer.data);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** `/v1/orgs/<org>` for the connection's org, encoded. */
export async function orgPath(connection: Connection): Promise<string> {
  return `/v1/orgs/${encodeURIComponent(await connection.org())}`;
}
