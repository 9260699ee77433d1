// What `gatehouse mcp doctor` reports: one line per step, pass/fail/warn/skip with the
// reason, and the URLs each step tried. The same report is printed for people or, with
// --json, as one JSON document. Servers write the strings quoted in it, so the human form
// escapes control characters: a hostile server must not be able to drive the terminal.
import type { ProbeAnswer, ProbeError } from './http-probe.ts';

export const STEP_NAMES = [
  'challenge',
  'resource-metadata',
  'auth-server-metadata',
  'cors',
  'registration',
  'token-audience',
] as const;

export type StepName = (typeof STEP_NAMES)[number];

/** `warn` marks a problem some clients hit that does not fail the run; `skip` a step not run. */
export type StepStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** One request a step made, and what came of it. */
export interface TriedUrl {
  readonly method: string;
  readonly url: string;
  /** The HTTP status, absent when no answer came (see `note`). */
  readonly status?: number;
  readonly note?: string;
}

export interface StepReport {
  readonly step: StepName;
  readonly status: StepStatus;
  readonly detail: string;
  readonly urls?: readonly TriedUrl[];
}

export interface DoctorReport {
  readonly url: string;
  readonly steps: readonly StepReport[];
  /** True when no step failed (warnings and skips do not fail a run). */
  readonly ok: boolean;
}

/** The record of a request that got an answer: where it ended up, redirects named. */
export function triedAnswer(method: string, requested: string, answer: ProbeAnswer, note?: string): TriedUrl {
  const notes = [
    ...answer.redirects.map((to) => `redirected to ${to}`),
    ...(answer.unfollowedRedirect ? [`redirect to ${answer.unfollowedRedirect} not followed`] : []),
    ...(note ? [note] : []),
  ];
  return {
    method,
    url: requested,
    status: answer.status,
    ...(notes.length > 0 && { note: notes.join('; ') }),
  };
}

export function triedFailure(method: string, requested: string, error: ProbeError): TriedUrl {
  return { method, url: requested, note: error.message };
}

/**
 * Why an answer is not the one wanted, in words: its status, and the redirect that was not
 * followed when that is the reason.
 */
export function answerProblem(answer: Pick<ProbeAnswer, 'status' | 'unfollowedRedirect'>): string {
  if (answer.unfollowedRedirect)
    return `answered ${answer.status} redirecting to ${answer.unfollowedRedirect}, another origin: not followed (clients do not follow it either)`;
  return `answered ${answer.status}`;
}

const MAX_QUOTED = 200;

/** A server-provided value as JSON (a string quoted), cut to a printable length. */
export function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
  return typeof value === 'string' || cut !== text ? JSON.stringify(cut) : cut;
}

/** Shorter than this is no real token, and replacing it would garble the report. */
const MIN_REDACTED_LENGTH = 8;

/**
 * The report with every occurrence of `secret` replaced: a server may echo the token it was
 * sent (in an error_description, say), and the doctor never prints a token.
 */
export function redactSecret(report: DoctorReport, secret: string | undefined): DoctorReport {
  if (secret === undefined || secret.length < MIN_REDACTED_LENGTH) return report;
  const redact = (text: string) => text.split(secret).join('[token]');
  return {
    ...report,
    steps: report.steps.map((step) => ({
      ...step,
      detail: redact(step.detail),
      ...(step.urls && {
        urls: step.urls.map((tried) => ({
          ...tried,
          url: redact(tried.url),
          ...(tried.note !== undefined && { note: redact(tried.note) }),
        })),
      }),
    })),
  };
}

/** How the answer was reached, when a redirect within the origin was followed: " (redirected to …)". */
export function redirectNote(answer: Pick<ProbeAnswer, 'redirects'>): string {
  return answer.redirects.length === 0 ? '' : ` (redirected to ${answer.redirects.join(', then ')})`;
}

/** C0 and C1 controls (ESC, BEL, CR, …), which a terminal would act on. */
export function isControlCharacter(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** One output line with every control character shown as an escape, never sent to the terminal. */
function printable(line: string): string {
  let shown = '';
  for (const char of line)
    shown += isControlCharacter(char) ? `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}` : char;
  return shown;
}

const STATUS_LABELS: Readonly<Record<StepStatus, string>> = {
  pass: 'pass',
  fail: 'FAIL',
  warn: 'warn',
  skip: 'skip',
};
const NAME_WIDTH = Math.max(...STEP_NAMES.map((name) => name.length)) + 2;

/** URLs are listed under a step when they explain what went wrong; a passing step's detail says enough. */
function listsUrls(step: StepReport): boolean {
  return step.urls !== undefined && step.urls.length > 0 && step.status !== 'pass';
}

export function formatHumanReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const step of report.steps) {
    lines.push(`${STATUS_LABELS[step.status]}  ${step.step.padEnd(NAME_WIDTH)}${step.detail}`);
    if (!listsUrls(step)) continue;
    for (const tried of step.urls!) {
      const outcome = tried.status === undefined ? '---' : String(tried.status);
      const note = tried.note ? `  (${tried.note})` : '';
      lines.push(`${' '.repeat(6 + NAME_WIDTH)}${outcome}  ${tried.method} ${tried.url}${note}`);
    }
  }
  const failed = report.steps.filter((step) => step.status === 'fail').length;
  const warned = report.steps.filter((step) => step.status === 'warn').length;
  lines.push(
    report.ok
      ? `${report.url}: no step failed${warned > 0 ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}`
      : `${report.url}: ${failed} step${failed > 1 ? 's' : ''} failed`,
  );
  return `${lines.map(printable).join('\n')}\n`;
}
