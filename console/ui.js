// Shared helpers of the console: the API client (bearer token from sessionStorage), DOM building,
// formatting. No framework: pages are functions that build DOM and return a cleanup function.

const TOKEN_KEY = 'dts-token';

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(t) { sessionStorage.setItem(TOKEN_KEY, t); }
export function clearToken() { sessionStorage.removeItem(TOKEN_KEY); }

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || '';
  }
}

// Calls the API; resolves with the parsed JSON, rejects with an ApiError. A 401/403 clears the
// token and returns to the login page (with the reason).
export async function api(method, path, body) {
  const headers = { 'Authorization': 'Bearer ' + token() };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'cannot reach the dts server (' + e.message + ')');
  }
  let data = null;
  const text = await resp.text();
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (resp.status === 401 || resp.status === 403) {
    clearToken();
    const why = resp.status === 401 ? 'Please log in.' : 'The token was refused; log in again.';
    if (!location.hash.startsWith('#/login')) {
      sessionStorage.setItem('dts-login-reason', why);
      location.hash = '#/login';
    }
    throw new ApiError(resp.status, 'auth', why);
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || 'http_' + resp.status,
                       e.message || ('HTTP ' + resp.status), e.field);
  }
  return data;
}

// A new element id, never given before on this page.
let lastId = 0;
export function uniqueId(prefix) { return prefix + '-' + (++lastId); }

// An element id made from names (databases, tables, columns, instances): prefix, then each name
// encoded and joined by '-'. Letters and digits stay; every other character, '-' and '_'
// included, becomes _XXXX (its UTF-16 code unit in hex), so two different lists of names never
// give the same id ("we ird"."t 1" and "we ird"."t_1" did: both were t-we_ird-t_1) and the id
// needs no escaping in a CSS selector.
export function domId(prefix, ...names) {
  const part = (name) => String(name).replace(/[^A-Za-z0-9]/g,
    (c) => '_' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return [prefix, ...names.map(part)].join('-');
}

// el('div', {class: 'x', onclick: f}, child, 'text', [more children])
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node) { while (node.firstChild) node.firstChild.remove(); return node; }

// Replaces node's children (null/false children are skipped, arrays flattened).
export function put(node, ...children) { clear(node); append(node, children); return node; }

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) if (c) node.append(c instanceof Node ? c : document.createTextNode(c));
  return node;
}

let toastTimer = 0;
export function toast(message, kind) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.className = 'show ' + (kind || '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = ''; }, 4000);
}

// An error box where the error happened: message, and the field it names when there is one.
export function errorBox(err, hint) {
  const msg = err instanceof Error ? err.message : String(err);
  return el('div', { class: 'alert error', role: 'alert' },
            el('strong', {}, 'Error: '), msg,
            hint ? el('div', { class: 'hint' }, hint) : null);
}

export function fmtNumber(n, digits) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits ?? 0 });
}

export function fmtLag(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds === 0) return '0 s';
  if (seconds < 0.01) return +(seconds * 1000).toFixed(1) + ' ms';
  if (seconds < 1) return (seconds * 1000).toFixed(0) + ' ms';
  if (seconds < 120) return seconds.toFixed(1) + ' s';
  if (seconds < 7200) return (seconds / 60).toFixed(1) + ' min';
  return (seconds / 3600).toFixed(1) + ' h';
}

// The one unit of a lag axis (seconds in) whose largest value is max: ms below 1 s, s below
// 2 min, min below 2 h, h above (the thresholds fmtLag uses).
export function lagUnit(max) {
  if (max < 1) return { factor: 1000, suffix: ' ms' };
  if (max < 120) return { factor: 1, suffix: ' s' };
  if (max < 7200) return { factor: 1 / 60, suffix: ' min' };
  return { factor: 1 / 3600, suffix: ' h' };
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

// A moment that may lie days back: "3 Dec, 10:00:12" (local time).
export function fmtDateTime(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function fmtDuration(ms) {
  if (ms <= 0) return 'now';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + (h ? '' : r + ' s');
}

// The colour class and label of a task's state (retrying wins: it is what an operator must see).
export function stateBadge(task) {
  const retrying = task.retrying && task.state === 'running';
  const state = retrying ? 'retrying' : task.state;
  return el('span', { class: 'badge s-' + state }, state);
}

// Polls fn every ms milliseconds (first call now) until the returned stop function is called.
// A call never overlaps the previous one.
export function poll(fn, ms) {
  let stopped = false, timer = 0;
  const tick = async () => {
    try { await fn(); } catch (e) { /* fn shows its own errors */ }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// A labelled form field. input: an element; help: text under it.
export function field(label, input, help) {
  if (!input.id) input.id = uniqueId('f');
  const helpNode = help ? el('div', { class: 'help', id: input.id + '-help' }, help) : null;
  if (helpNode) input.setAttribute('aria-describedby', helpNode.id);
  return el('div', { class: 'field' }, el('label', { for: input.id }, label), input, helpNode);
}

export function enc(s) { return encodeURIComponent(s); }

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The password of an endpoint, typed here or named as an environment variable of the server
// (password_env, as task and instance files allow). cred: {mode: 'inline'|'env', password, env},
// changed in place. prefix names the inputs (PREFIX-password, PREFIX-password-env) and ids.
// Returns {node, check(): null | {message, focus}, spec(): {password} | {password_env} | {}}.
// envTail: what reads the variable from this form (a sentence), after the note's general part.
export function passwordChoice(prefix, cred, inlineHelp, envTail) {
  const radio = (mode, label) => {
    const r = el('input', { type: 'radio', name: prefix + '-pw-mode', value: mode, id: prefix + '-pw-' + mode,
                            checked: cred.mode === mode });
    r.addEventListener('change', () => { if (r.checked) { cred.mode = mode; show(); } });
    return el('label', { for: r.id }, r, ' ', label);
  };
  const pw = el('input', { name: prefix + '-password', id: prefix + '-password', type: 'password',
                           autocomplete: 'new-password' });
  pw.value = cred.password;
  pw.addEventListener('input', () => { cred.password = pw.value; });
  const env = el('input', { name: prefix + '-password-env', id: prefix + '-password-env', autocomplete: 'off',
                            spellcheck: 'false', placeholder: 'DTS_PASSWORD', class: 'mono' });
  env.value = cred.env;
  env.addEventListener('input', () => { cred.env = env.value.trim(); });
  const inlineBox = field('Password', pw, inlineHelp);
  const envBox = el('div', {},
    field('Variable name', env, 'its name only, e.g. SHOP_PW: letters, digits and _'),
    el('div', { class: 'note', id: prefix + '-env-note' },
      el('strong', {}, 'Set on the server: '),
      'dts reads the variable from the environment of the ', el('code', {}, 'dts server'),
      ' process each time it connects (for a systemd service, an ', el('code', {}, 'Environment='),
      ' line of dts.service). This page never sees its value. ',
      envTail || 'The connection test below reads it on the server.'));
  const show = () => { inlineBox.hidden = cred.mode !== 'inline'; envBox.hidden = cred.mode !== 'env'; };
  show();
  const node = el('fieldset', { class: 'span2 pw-choice' }, el('legend', {}, 'Password'),
    el('div', { class: 'radios' }, radio('inline', 'Type it here'), radio('env', 'From an environment variable of the server')),
    inlineBox, envBox);
  return {
    node,
    check: () => (cred.mode === 'env' && !ENV_NAME.test(cred.env)
      ? { message: 'environment variable: a name of letters, digits and _ (not starting with a digit)', focus: env } : null),
    spec: () => (cred.mode === 'env' ? (cred.env ? { password_env: cred.env } : {})
                                     : (cred.password ? { password: cred.password } : {})),
  };
}
