#!/usr/bin/env node
// Usage: node scripts/check-test-report.mjs LOGFILE
//
// Reads the captured output of `npm test` (node:test under `--test`) and fails unless it proves
// the whole suite really ran:
//   - node:test's closing summary is there, with `fail 0`, `cancelled 0` and `pass N`, N > 0;
//   - at least one passing test ran under each tag: `[postgres]`, `[sqlite]` (the per-backend
//     suites from test/helpers/each-backend.ts) and `[browser]` (the Chromium tests).
// A test counts for a tag when the tag is in its own name or in the name of a suite/test it is
// nested in; only passing leaf tests count (not suites, skipped or todo tests).
//
// Both of node:test's text reporters are understood: TAP (the default when stdout is not a
// terminal on Node 20) and spec (the default everywhere on Node 24). Prints one line: the reason
// and exit 1 on failure, or a summary and exit 0.
import { readFileSync } from 'node:fs';

const REQUIRED_TAGS = ['[postgres]', '[sqlite]', '[browser]'];
const ME = 'check-test-report';

function fail(reason) {
  process.stdout.write(`${ME}: FAIL: ${reason}\n`);
  process.exit(1);
}

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  process.stderr.write('usage: node scripts/check-test-report.mjs LOGFILE\n');
  process.exit(2);
}

let text;
try {
  text = readFileSync(file, 'utf8');
} catch (err) {
  fail(`cannot read ${file}: ${err.message}`);
}

// Colours (FORCE_COLOR) and carriage returns would get in the way of the patterns below.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters
const lines = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n/);

// ---- the closing summary ------------------------------------------------------------------
// TAP: `# pass 12`; spec: `ℹ pass 12`. The last block in the log is the runner's own (test
// output that looks like one is escaped in TAP and comes earlier in spec).
const SUMMARY = /^(#|\u2139) (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)\s*$/;
let summaryEnd = -1;
for (let i = lines.length - 1; i >= 0; i--) {
  const m = SUMMARY.exec(lines[i]);
  if (m && (m[2] === 'pass' || m[2] === 'fail' || m[2] === 'tests')) {
    summaryEnd = i;
    break;
  }
}
if (summaryEnd < 0) {
  fail(
    `no node:test closing summary ('# pass N' / '\u2139 pass N') in ${file}: the test runner did not finish (crashed, was killed, or never started)`,
  );
}
const prefix = SUMMARY.exec(lines[summaryEnd])[1];
const summary = {};
let summaryStart = summaryEnd;
while (summaryStart >= 0) {
  const m = SUMMARY.exec(lines[summaryStart]);
  if (!m || m[1] !== prefix) break;
  summary[m[2]] ??= Number(m[3]);
  summaryStart--;
}
summaryStart++;
for (let i = summaryEnd + 1; i < lines.length; i++) {
  const m = SUMMARY.exec(lines[i]);
  if (!m || m[1] !== prefix) break;
  summary[m[2]] ??= Number(m[3]);
}
if (summary.pass === undefined || summary.fail === undefined) {
  fail(`the node:test summary in ${file} has no 'pass' and 'fail' counts`);
}
const format = prefix === '#' ? 'tap' : 'spec';

// ---- the individual results ----------------------------------------------------------------
/** @type {{path: string[], status: 'pass' | 'fail' | 'skip' | 'todo', leaf: boolean}[]} */
const results = [];

function directiveStatus(directive, passed) {
  if (directive && /^SKIP\b/i.test(directive)) return 'skip';
  if (directive && /^TODO\b/i.test(directive)) return 'todo';
  return passed ? 'pass' : 'fail';
}

if (format === 'tap') {
  // node:test's TAP: `# Subtest: NAME` opens a test, `ok N - NAME [# SKIP|TODO ...]` or
  // `not ok ...` closes it; 4 spaces of indentation per nesting level. In names, `#` is
  // written `\#` and `\` is written `\\`.
  const unescapeTap = (s) => s.replace(/\\([\\#])/g, '$1');
  const splitDirective = (s) => {
    const m = /^(.*?)(?<!\\) # (.*)$/.exec(s);
    return m ? [m[1], m[2]] : [s, undefined];
  };
  const SUBTEST = /^( *)# Subtest: (.*)$/;
  const RESULT = /^( *)(ok|not ok) \d+(?: - (.*))?$/;
  const stack = []; // per depth: { name, hasChild }
  for (let i = 0; i < summaryStart; i++) {
    const line = lines[i];
    let m = SUBTEST.exec(line);
    if (m) {
      const depth = Math.floor(m[1].length / 4);
      stack.length = depth;
      stack[depth] = { name: unescapeTap(m[2]), hasChild: false };
      continue;
    }
    m = RESULT.exec(line);
    if (!m) continue;
    const depth = Math.floor(m[1].length / 4);
    const [rawName, directive] = splitDirective(m[3] ?? '');
    const name = unescapeTap(rawName);
    const open = stack[depth];
    const leaf = !(open && open.name === name && open.hasChild);
    const path = [...stack.slice(0, depth).map((s) => s?.name ?? ''), name];
    results.push({ path, status: directiveStatus(directive, m[2] === 'ok'), leaf });
    if (depth > 0 && stack[depth - 1]) stack[depth - 1].hasChild = true;
    stack.length = depth;
  }
} else {
  // node:test's spec: `▶ NAME` opens a suite or a test with subtests; `✔ NAME (1.2ms)` passed,
  // `✖ NAME (1.2ms)` failed, `﹣ NAME (1.2ms) # reason` skipped, `✔ NAME (1.2ms) # reason` todo;
  // 2 spaces of indentation per nesting level. Stops at the `✖ failing tests:` recap.
  const LINE = /^( *)(\u25b6|\u2714|\u2716|\ufe63) (.*)$/;
  const stack = [];
  for (let i = 0; i < summaryStart; i++) {
    const m = LINE.exec(lines[i]);
    if (!m) continue;
    const depth = Math.floor(m[1].length / 2);
    const glyph = m[2];
    if (glyph === '\u25b6') {
      stack.length = depth;
      stack[depth] = { name: m[3], hasChild: false };
      continue;
    }
    // Name, then the duration (absent on cancelled tests), then an optional directive.
    const parsed = /^(.*) \(\d+(?:\.\d+)?m?s\)(?: # (.*))?$/.exec(m[3]);
    const name = parsed ? parsed[1] : m[3];
    const directive = parsed ? parsed[2] : undefined;
    const open = stack[depth];
    const leaf = !(open && open.name === name && open.hasChild);
    const path = [...stack.slice(0, depth).map((s) => s?.name ?? ''), name];
    let status;
    if (glyph === '\ufe63') status = 'skip';
    // Only todo tests carry a directive on a ✔/✖ line, and it is just their reason
    // (`✔ name (1ms) # not yet`) unless they gave none (`# TODO`).
    else if (directive !== undefined) status = 'todo';
    else status = glyph === '\u2714' ? 'pass' : 'fail';
    results.push({ path, status, leaf });
    if (depth > 0 && stack[depth - 1]) stack[depth - 1].hasChild = true;
    stack.length = depth;
  }
}

// ---- verdict ---------------------------------------------------------------------------------
const show = (r) => r.path.filter(Boolean).join(' > ');
const failed = results.filter((r) => r.status === 'fail');
function failedNames() {
  const leaves = failed.filter((r) => r.leaf);
  const list = (leaves.length ? leaves : failed).map(show);
  if (list.length === 0) return '';
  const shown = list.slice(0, 5).join('; ');
  return `: ${shown}${list.length > 5 ? `; and ${list.length - 5} more` : ''}`;
}

if (summary.fail > 0) fail(`node:test reports ${summary.fail} failing test(s)${failedNames()}`);
if (summary.cancelled > 0) fail(`node:test reports ${summary.cancelled} cancelled test(s)${failedNames()}`);
if (!(summary.pass > 0)) fail(`node:test reports pass ${summary.pass}: no test passed`);
if (failed.length > 0) {
  fail(`the summary says fail 0 but the log has ${failed.length} failing result line(s)${failedNames()}`);
}

const passingLeaves = results.filter((r) => r.status === 'pass' && r.leaf);
const perTag = {};
for (const tag of REQUIRED_TAGS) {
  perTag[tag] = passingLeaves.filter((r) => r.path.some((n) => n.includes(tag))).length;
}
const missing = REQUIRED_TAGS.filter((tag) => perTag[tag] === 0);
if (missing.length > 0) {
  const what = {
    '[postgres]': 'the PostgreSQL tier did not run',
    '[sqlite]': 'the SQLite tier did not run',
    '[browser]': 'no browser (Chromium) test ran',
  };
  fail(
    `no passing test tagged ${missing.join(', ')} (${missing.map((t) => what[t] ?? 'missing').join('; ')}); ` +
      `${passingLeaves.length} passing test(s) found in ${format} output of ${file}`,
  );
}

const tags = REQUIRED_TAGS.map((t) => `${t} ${perTag[t]}`).join(', ');
process.stdout.write(
  `${ME}: OK: ${file} (${format}): pass ${summary.pass}, fail 0, skipped ${summary.skipped ?? 0}, todo ${summary.todo ?? 0}; ${tags}\n` +
    `tests: ${summary.pass} passed, 0 failed, ${summary.skipped ?? 0} skipped\n`,
);
