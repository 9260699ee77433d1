// Command output: JSON on stdout with --json, else lines for people. Diagnostics and progress
// go to stderr, so stdout stays clean for pipes (`gatehouse auth token | …`).
import type { Command } from 'commander';

export function wantsJson(command: Command): boolean {
  return command.optsWithGlobals<{ json?: boolean }>().json === true;
}

export function printResult(command: Command, data: unknown, human: string): void {
  process.stdout.write(wantsJson(command) ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

/** A line for the person at the terminal, never for a pipe: stderr. */
export function tell(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Rows as aligned columns under a header; `empty` when there are none. */
export function formatTable(
  columns: readonly string[],
  rows: readonly (readonly string[])[],
  empty: string,
): string {
  if (rows.length === 0) return empty;
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)].join('\n');
}
