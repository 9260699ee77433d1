// Looking a metadata document up at several well-known locations, the way the MCP SDK does
// for both RFC 9728 and RFC 8414 documents: in order, the first 2xx answer is the document,
// a 4xx or no answer moves on to the next location, and a server error ends the search.
import { type Probe, type ProbeAnswer, ProbeError } from './http-probe.ts';
import { LATEST_PROTOCOL_VERSION } from './initialize.ts';
import { answerProblem, type TriedUrl, triedAnswer, triedFailure } from './report.ts';

export interface Lookup {
  /** The location that answered 2xx, and its answer. */
  readonly found?: { readonly location: string; readonly answer: ProbeAnswer };
  /** Every request made, in order. */
  readonly urls: TriedUrl[];
  /** Why each location before the one found (or every location) was passed over. */
  readonly misses: string[];
}

export async function lookUpDocument(probe: Probe, locations: readonly string[]): Promise<Lookup> {
  const urls: TriedUrl[] = [];
  const misses: string[] = [];
  for (const location of locations) {
    let answer: ProbeAnswer;
    try {
      answer = await probe({
        method: 'GET',
        url: location,
        // What the SDK sends with its discovery requests.
        headers: { accept: 'application/json', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      });
    } catch (error) {
      if (!(error instanceof ProbeError)) throw error;
      urls.push(triedFailure('GET', location, error));
      misses.push(`${location}: ${error.message}`);
      continue;
    }
    urls.push(triedAnswer('GET', location, answer));
    if (answer.status >= 200 && answer.status < 300) return { found: { location, answer }, urls, misses };
    misses.push(`${location} ${answerProblem(answer)}`);
    if (answer.status >= 500) break;
  }
  return { urls, misses };
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
