// Opening the system browser for a login, and knowing when there is none to open: over SSH,
// or on Linux without a display, the CLI uses the device flow instead (SPEC §9). `BROWSER`
// (the common convention: a command, `%s` standing for the URL) overrides the platform's opener.
import { spawn } from 'node:child_process';
import type { BrowserEnvironment } from '../../config.ts';

interface Opener {
  readonly command: string;
  readonly args: readonly string[];
}

function openerFor(environment: BrowserEnvironment, url: string): Opener | undefined {
  if (environment.command !== undefined) {
    // A list (`a:b`) names alternatives; the first is used.
    const [first = ''] = environment.command.split(':');
    const words = first.trim().split(/\s+/).filter(Boolean);
    const [command, ...rest] = words;
    if (command === undefined) return undefined;
    const args = rest.some((word) => word.includes('%s'))
      ? rest.map((word) => word.replaceAll('%s', url))
      : [...rest, url];
    return { command, args };
  }
  if (environment.overSsh && !environment.hasDisplay) return undefined;
  switch (environment.platform) {
    case 'darwin':
      return { command: 'open', args: [url] };
    case 'win32':
      // Not `cmd /c start`: cmd would interpret &, | and %…% in the URL.
      return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
    default:
      return environment.hasDisplay ? { command: 'xdg-open', args: [url] } : undefined;
  }
}

/** Why no browser can be opened here, or undefined when one can. */
export function noBrowserReason(environment: BrowserEnvironment): string | undefined {
  if (openerFor(environment, 'about:blank') !== undefined) return undefined;
  return environment.overSsh ? 'this is an SSH session without a display' : 'there is no display';
}

/**
 * Starts the browser on `url`, detached. Resolves false when the opener could not be started
 * (not installed); the caller has printed the URL for copy and paste either way.
 */
export function openSystemBrowser(environment: BrowserEnvironment, url: string): Promise<boolean> {
  // The URL comes from the server's metadata: only a web address is handed to an opener,
  // never `file:` or a scheme some other program would act on.
  const parsed = URL.parse(url);
  if (parsed?.protocol !== 'https:' && parsed?.protocol !== 'http:') return Promise.resolve(false);
  const opener = openerFor(environment, parsed.href);
  if (opener === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(opener.command, [...opener.args], { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
