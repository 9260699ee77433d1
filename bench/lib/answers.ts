// Whether a target's answers were the ones it must give: any 2xx by default, exactly its
// expectedStatus when it has one. Anything else means the figure measured something else
// (errors, a rate limit) and the run is invalid.
import type { Target } from './suite.ts';
import type { WrkFigures } from './wrk.ts';

export function expectedAnswer(target: Target): string {
  return target.expectedStatus === undefined ? '2xx' : String(target.expectedStatus);
}

/** What was wrong with the answers wrk got, or undefined when every one was as expected. */
export function unexpectedAnswers(target: Target, figures: WrkFigures): string | undefined {
  if (target.expectedStatus === undefined)
    return figures.non2xx > 0 ? `${figures.non2xx} NON-2xx` : undefined;
  if (!figures.statuses) return 'statuses not counted';
  const wrong = [...figures.statuses]
    .filter(([status]) => status !== target.expectedStatus)
    .map(([status, count]) => `${count}× ${status}`);
  const counted = [...figures.statuses.values()].reduce((sum, n) => sum + n, 0);
  if (counted !== figures.requests) wrong.push(`${counted} answers counted of ${figures.requests}`);
  return wrong.length ? `NOT ${target.expectedStatus}: ${wrong.join(', ')}` : undefined;
}
