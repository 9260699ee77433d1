// Static files: the shared stylesheet of the server-rendered pages, and the admin console
// (admin/), a no-build browser app that talks to /v1 like any other client. Files are read
// once at start-up; nothing is fetched from a CDN (air-gapped installs, SPEC §8).
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { STYLESHEET_PATH, stylesheet } from '../web/index.ts';

const ADMIN_DIR = fileURLToPath(new URL('../../admin/', import.meta.url));
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export function registerStaticAssets(app: FastifyInstance): void {
  app.get(
    STYLESHEET_PATH,
    { config: { permission: 'public' } },
    async function stylesheetAsset(_request, reply) {
      return reply
        .type('text/css; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(stylesheet);
    },
  );

  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(ADMIN_DIR)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(ADMIN_DIR, name)), type });
  }
  app.get('/admin', { config: { permission: 'public' } }, async function adminRedirect(_request, reply) {
    return reply.redirect('/admin/', 301);
  });
  // The console is public HTML/JS: every piece of data it shows comes from /v1, which
  // enforces the caller's permissions.
  app.get<{ Params: { '*': string } }>(
    '/admin/*',
    { config: { permission: 'public' } },
    async function adminAsset(request, reply) {
      const name = request.params['*'];
      const file = files.get(name) ?? (name.includes('.') ? undefined : files.get('index.html'));
      if (!file) return reply.callNotFound();
      return reply.type(file.type).header('cache-control', 'no-cache').send(file.body);
    },
  );
}
