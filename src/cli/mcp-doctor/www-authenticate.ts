// Parses a WWW-Authenticate field value into its challenges (RFC 9110 §11.6.1, §5.6), the
// way a careful client does: several challenges in one value (or in several fields joined
// with ", "), quoted strings with escaped quotes and commas, token68, case-insensitive
// scheme and parameter names. MCP clients read `resource_metadata` and `scope` from the
// Bearer challenge (RFC 6750 §3, RFC 9728 §5.1); a regular expression over the raw header
// misreads a comma or an escaped quote inside a quoted string.

export interface AuthChallenge {
  /** The scheme as the server wrote it; compare with `isScheme`. */
  readonly scheme: string;
  /** Parameters by lower-cased name, values unquoted and unescaped. */
  readonly params: ReadonlyMap<string, string>;
  /** The token68 form (`Basic dXNlcg==`), for schemes that use it instead of parameters. */
  readonly token68?: string;
}

/** The value does not follow the grammar; `position` is where parsing stopped (0-based). */
export class WwwAuthenticateSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at character ${position + 1}`);
    this.name = 'WwwAuthenticateSyntaxError';
  }
}

// tchar (RFC 9110 §5.6.2) and the token68 alphabet (§11.2).
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[-._~+/0-9A-Za-z]/;
const WHITESPACE = new Set([' ', '\t']);

class Cursor {
  position = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }
  peek(): string | undefined {
    return this.text[this.position];
  }
  skipWhitespace(): void {
    while (!this.done && WHITESPACE.has(this.text[this.position]!)) this.position++;
  }
  /** Skips whitespace and the empty list elements RFC 9110 §5.6.1 tells recipients to ignore. */
  skipSeparators(): void {
    while (!this.done && (WHITESPACE.has(this.peek()!) || this.peek() === ',')) this.position++;
  }
  readWhile(pattern: RegExp): string {
    const start = this.position;
    while (!this.done && pattern.test(this.text[this.position]!)) this.position++;
    return this.text.slice(start, this.position);
  }
  fail(reason: string): never {
    throw new WwwAuthenticateSyntaxError(reason, this.position);
  }
}

/** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, returned unescaped. */
function readQuotedString(cursor: Cursor): string {
  cursor.position++; // the opening quote
  let value = '';
  for (;;) {
    if (cursor.done) cursor.fail('unterminated quoted string');
    const char = cursor.peek()!;
    cursor.position++;
    if (char === '"') return value;
    if (char === '\\') {
      if (cursor.done) cursor.fail('unterminated quoted string');
      value += cursor.peek();
      cursor.position++;
    } else {
      value += char;
    }
  }
}

/**
 * After `scheme 1*SP`: a token68 is the whole credential, followed only by the end or the
 * comma before the next challenge. Anything else (`realm="x"`, `realm=x`) is parameters.
 */
function readToken68(cursor: Cursor): string | undefined {
  const start = cursor.position;
  const body = cursor.readWhile(TOKEN68_CHAR);
  const padding = body === '' ? '' : cursor.readWhile(/=/);
  cursor.skipWhitespace();
  if (body !== '' && (cursor.done || cursor.peek() === ',')) return body + padding;
  cursor.position = start;
  return undefined;
}

/** Reads `name = value` pairs until the list ends or the next element starts a new challenge. */
function readParams(cursor: Cursor, params: Map<string, string>): void {
  for (;;) {
    cursor.skipSeparators();
    if (cursor.done) return;
    const elementStart = cursor.position;
    const name = cursor.readWhile(TCHAR);
    if (name === '') cursor.fail('expected a parameter name or an auth-scheme');
    cursor.skipWhitespace();
    if (cursor.peek() !== '=') {
      // `, Basic realm=…`: the token was the next challenge's scheme.
      cursor.position = elementStart;
      return;
    }
    cursor.position++;
    cursor.skipWhitespace();
    const quoted = cursor.peek() === '"';
    const value = quoted ? readQuotedString(cursor) : cursor.readWhile(TCHAR);
    // `realm=""` is an empty value; `realm=` is no value at all.
    if (!quoted && value === '') cursor.fail(`parameter ${name} has no value`);
    const key = name.toLowerCase();
    // RFC 9110 §11.2: each parameter name MUST occur only once per challenge; a client that
    // took the first and one that took the last would disagree about the same header.
    if (params.has(key)) cursor.fail(`parameter ${name} appears twice in one challenge`);
    params.set(key, value);
    cursor.skipWhitespace();
    if (!cursor.done && cursor.peek() !== ',') cursor.fail(`expected "," after parameter ${name}`);
  }
}

/** Every challenge in a WWW-Authenticate value; throws WwwAuthenticateSyntaxError on bad syntax. */
export function parseWwwAuthenticate(value: string): AuthChallenge[] {
  const cursor = new Cursor(value);
  const challenges: AuthChallenge[] = [];
  for (;;) {
    cursor.skipSeparators();
    if (cursor.done) break;
    const scheme = cursor.readWhile(TCHAR);
    if (scheme === '') cursor.fail('expected an auth-scheme');
    const params = new Map<string, string>();
    let token68: string | undefined;
    if (WHITESPACE.has(cursor.peek() ?? '')) {
      cursor.skipWhitespace();
      token68 = readToken68(cursor);
      if (token68 === undefined) readParams(cursor, params);
    } else if (!cursor.done && cursor.peek() !== ',') {
      cursor.fail(`expected a space or "," after auth-scheme ${scheme}`);
    }
    challenges.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 });
  }
  return challenges;
}

/** Auth-scheme names are case-insensitive (RFC 9110 §11.1). */
export function isScheme(challenge: AuthChallenge, scheme: string): boolean {
  return challenge.scheme.toLowerCase() === scheme.toLowerCase();
}
