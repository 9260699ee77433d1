import { html, type SafeHtml } from './html.ts';

export const STYLESHEET_PATH = '/assets/gatehouse.css';

export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main class="card">
<p class="brand">Gatehouse</p>
${body}
</main>
</body>
</html>`.value;
}

export const stylesheet = `
:root { color-scheme: light dark; --accent: #2f5bd3; --muted: #6b7280; --danger: #b42318; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; min-height: 100vh;
  display: flex; align-items: flex-start; justify-content: center; background: Canvas; color: CanvasText; }
.card { width: 100%; max-width: 26rem; margin: 8vh 1rem; padding: 2rem; border: 1px solid #8884; border-radius: 12px; }
.brand { font-weight: 700; letter-spacing: .02em; color: var(--accent); margin: 0 0 1rem; }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
label { display: block; margin: .8rem 0 .25rem; font-weight: 600; }
input { width: 100%; padding: .55rem .65rem; font: inherit; border: 1px solid #8886; border-radius: 8px; background: Field; color: FieldText; }
button { margin-top: 1.2rem; width: 100%; padding: .6rem; font: inherit; font-weight: 600; border: 0; border-radius: 8px;
  background: var(--accent); color: white; cursor: pointer; }
.error { color: var(--danger); border: 1px solid currentColor; border-radius: 8px; padding: .5rem .75rem; }
.muted { color: var(--muted); font-size: .9rem; }
button.secondary { background: transparent; color: var(--accent); border: 1px solid currentColor; }
code { font-size: .85rem; }
code.user-code { font-size: 1.6rem; letter-spacing: .15em; }
`;
