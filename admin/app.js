// The admin console: a small no-build browser app over the same /v1 API everyone uses.
// It never decides what the caller may do; it shows what /v1 answers (403s included).

const state = { me: null, org: null, auditCursor: null };
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && state.me?.csrf_token) headers['x-csrf-token'] = state.me.csrf_token;
  const response = await fetch(`/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    location.assign(`/login?return_to=${encodeURIComponent('/admin/')}`);
    throw new ApiError(401, null);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Refusals and failures go to the alert; what went well to the polite status line.
function show(id, message) {
  const el = $(id);
  el.textContent = message;
  el.hidden = !message;
}

function notify(message, ok = false) {
  show(ok ? 'status' : 'notice', message);
  show(ok ? 'notice' : 'status', '');
}

function showError(error) {
  if (!(error instanceof ApiError)) {
    notify(`Error: ${error?.message ?? error}. Reload the page and try again.`);
    return;
  }
  if (error.status === 401) return;
  const prefix = error.status === 403 ? 'Not allowed' : error.status === 404 ? 'Not found' : 'Error';
  notify(`${prefix} (${error.status}): ${error.message}`);
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  return td;
}

/** A button showing `label`; `name` (which starts with the label) is what assistive tech announces. */
function button(label, onClick, name = label) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (name !== label) b.setAttribute('aria-label', name);
  b.addEventListener('click', onClick);
  return b;
}

const orgPath = () => `/orgs/${encodeURIComponent(state.org.slug)}`;

async function loadMembers() {
  const body = $('members-body');
  // Fetch first, then swap the rows in one go, so two loads racing never interleave rows.
  const page = await api('GET', `${orgPath()}/members?limit=200`).catch((error) => {
    body.replaceChildren();
    throw error;
  });
  const rows = [];
  for (const m of page.data) {
    const tr = document.createElement('tr');
    tr.dataset.email = m.email;
    const roleSelect = document.createElement('select');
    roleSelect.setAttribute('aria-label', `Role of ${m.email}`);
    for (const r of ['admin', 'user', 'viewer']) roleSelect.add(new Option(r, r, false, r === m.role));
    roleSelect.addEventListener('change', () =>
      act(
        () => api('PATCH', `${orgPath()}/members/${m.id}`, { role: roleSelect.value }),
        `Role of ${m.email} is now ${roleSelect.value}.`,
      ),
    );
    const roleCell = document.createElement('td');
    roleCell.append(roleSelect);
    const actions = document.createElement('div');
    actions.className = 'row-actions';
    const setStatus = (status, done) =>
      act(() => api('PATCH', `${orgPath()}/members/${m.id}`, { status }), `${m.email} ${done}.`);
    actions.append(
      m.status === 'active'
        ? button('Suspend', () => setStatus('suspended', 'is suspended'), `Suspend ${m.email}`)
        : button('Reactivate', () => setStatus('active', 'is active again'), `Reactivate ${m.email}`),
      button(
        'Remove',
        () => act(() => api('DELETE', `${orgPath()}/members/${m.id}`), `${m.email} was removed.`),
        `Remove ${m.email}`,
      ),
    );
    const actionsCell = document.createElement('td');
    actionsCell.append(actions);
    tr.append(cell(m.name), cell(m.email), roleCell, cell(m.status), actionsCell);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

async function act(work, message) {
  try {
    await work();
  } catch (error) {
    showError(error);
    // Put the table back as the server has it (a refused role change must not stay selected).
    await loadMembers().catch(() => {});
    return;
  }
  notify(message, true);
  await loadMembers().catch(showError);
}

async function loadSessions() {
  const body = $('sessions-body');
  const { data } = await api('GET', '/me/sessions').catch((error) => {
    body.replaceChildren();
    throw error;
  });
  const rows = [];
  for (const s of data) {
    const tr = document.createElement('tr');
    const actions = document.createElement('td');
    if (s.current) actions.textContent = 'this browser';
    else
      actions.append(
        button('Revoke', async () => {
          try {
            await api('DELETE', `/me/sessions/${s.id}`);
            await loadSessions();
          } catch (error) {
            showError(error);
          }
        }),
      );
    tr.append(
      cell(new Date(s.created_at).toLocaleString()),
      cell(new Date(s.last_seen_at).toLocaleString()),
      cell(s.ip),
      cell(s.user_agent),
      actions,
    );
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

async function loadAudit(append = false) {
  const body = $('audit-body');
  const params = new URLSearchParams({ limit: '50' });
  const action = $('audit-action').value.trim();
  if (action) params.set('action', action);
  if (append && state.auditCursor) params.set('cursor', state.auditCursor);
  const page = await api('GET', `${orgPath()}/audit?${params}`).catch((error) => {
    if (!append) {
      body.replaceChildren();
      state.auditCursor = null;
      $('audit-more').hidden = true;
    }
    throw error;
  });
  if (!append) body.replaceChildren();
  for (const e of page.data) {
    const tr = document.createElement('tr');
    tr.append(
      cell(new Date(e.occurred_at).toLocaleString()),
      cell(e.action),
      cell(`${e.actor.kind}${e.actor.id ? `:${e.actor.id}` : ''}`),
      cell(e.target ? `${e.target.kind}:${e.target.id}` : ''),
      cell(e.ip),
    );
    body.append(tr);
  }
  state.auditCursor = page.next_cursor;
  $('audit-more').hidden = !page.next_cursor;
}

async function verifyAudit() {
  $('audit-verify-result').textContent = 'Verifying…';
  const result = await api('GET', `${orgPath()}/audit/verify`).catch((error) => {
    $('audit-verify-result').textContent = '';
    throw error;
  });
  $('audit-verify-result').textContent = result.valid
    ? `Chain verified: ${result.events_checked} events, no break.`
    : `Chain BROKEN at event #${result.first_broken.seq}${result.first_broken.event_id ? ` (${result.first_broken.event_id})` : ''}: ${result.first_broken.reason}.`;
}

const loaders = { members: loadMembers, sessions: loadSessions, audit: () => loadAudit(false) };

async function showSection(name) {
  notify('');
  $('audit-verify-result').textContent = '';
  for (const b of document.querySelectorAll('.tabs button'))
    b.setAttribute('aria-pressed', String(b.dataset.section === name));
  for (const key of Object.keys(loaders)) $(`section-${key}`).hidden = key !== name;
  try {
    await loaders[name]();
  } catch (error) {
    showError(error);
  }
}

// Viewers may not list members (SPEC §1), so their console opens on their own sessions.
function firstSection() {
  return state.org?.role === 'viewer' ? 'sessions' : 'members';
}

async function main() {
  state.me = await api('GET', '/me');
  $('whoami').textContent = state.me.user
    ? `${state.me.user.name} <${state.me.user.email}>`
    : state.me.principal.id;
  const select = $('org-select');
  for (const o of state.me.orgs) select.add(new Option(`${o.name} (${o.role})`, o.slug));
  state.org = state.me.orgs[0] ?? null;
  if (!state.org) {
    notify('You are not a member of any organization yet.', true);
    return;
  }
  select.addEventListener('change', () => {
    state.org = state.me.orgs.find((o) => o.slug === select.value);
    showSection(firstSection());
  });
  for (const b of document.querySelectorAll('.tabs button'))
    b.addEventListener('click', () => showSection(b.dataset.section));
  $('add-member-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const payload = { email: form.get('email'), name: form.get('name'), role: form.get('role') };
    if (form.get('password')) payload.password = form.get('password');
    await act(async () => {
      await api('POST', `${orgPath()}/members`, payload);
      event.target.reset();
    }, `${payload.email} was added as ${payload.role}.`);
  });
  $('audit-filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    loadAudit(false).catch(showError);
  });
  $('audit-verify').addEventListener('click', () => verifyAudit().catch(showError));
  $('audit-more').addEventListener('click', () => loadAudit(true).catch(showError));
  await showSection(firstSection());
}

main().catch(showError);
