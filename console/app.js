// The console's entry point: login (the API token, kept in sessionStorage only), the hash router
// and the navigation. Pages: #/tasks, #/tasks/NAME, #/new, #/instances, #/login.
import { api, clearToken, el, clear, put, setToken, token, errorBox } from './ui.js';
import { instancesPage } from './instances.js';
import { tasksPage, taskPage } from './tasks.js';
import { wizardPage } from './wizard.js';

const main = document.getElementById('main');
let cleanup = null;

function loginPage(root) {
  const reason = sessionStorage.getItem('dts-login-reason');
  sessionStorage.removeItem('dts-login-reason');
  const input = el('input', { type: 'password', id: 'token', name: 'token', required: true,
                              autocomplete: 'off', spellcheck: 'false',
                              'aria-describedby': 'token-help' });
  const status = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'card login', novalidate: true },
    el('h1', {}, 'Log in to dts'),
    reason ? el('p', { class: 'alert warn', role: 'alert' }, reason) : null,
    el('div', { class: 'field' },
      el('label', { for: 'token' }, 'API token'), input,
      el('div', { class: 'help', id: 'token-help' },
         'Printed when the server first started, and kept in the server\'s data dir in the file ',
         el('code', {}, 'api-token'), '. It stays in this browser tab only (sessionStorage).')),
    status,
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, 'Log in')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    clear(status);
    if (!t) { status.append(errorBox('enter the API token')); input.focus(); return; }
    setToken(t);
    try {
      await api('GET', '/api/v1/tasks');
      location.hash = '#/tasks';
    } catch (e) {
      clearToken();
      put(status, errorBox(e.status === 403 || e.status === 401
        ? 'the server refused this token' : e.message));
      input.select();
    }
  });
  root.append(form);
  input.focus();
}

function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const hash = location.hash || '#/tasks';
  const parts = hash.slice(2).split('/').map(decodeURIComponent);
  const authed = !!token();
  document.getElementById('logout').hidden = !authed;
  document.getElementById('nav').hidden = !authed;
  clear(main);
  if (!authed && parts[0] !== 'login') { location.hash = '#/login'; return; }
  const page = parts[0] || 'tasks';
  for (const a of document.querySelectorAll('#nav a')) {
    const current = a.dataset.page === page;
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  let result;
  try {
    if (page === 'login') { document.title = 'Log in · dts'; result = loginPage(main); }
    else if (page === 'instances') { document.title = 'Instances · dts'; result = instancesPage(main); }
    else if (page === 'new') { document.title = 'Create task · dts'; result = wizardPage(main); }
    else if (page === 'tasks' && parts[1]) { document.title = parts[1] + ' · dts'; result = taskPage(main, parts[1]); }
    else if (page === 'tasks') { document.title = 'Tasks · dts'; result = tasksPage(main); }
    else main.append(el('div', { class: 'empty' }, el('h1', {}, 'Not found'),
                        el('p', {}, 'No page here. '), el('a', { href: '#/tasks' }, 'Go to the tasks')));
  } catch (e) {
    main.append(errorBox(e));
  }
  cleanup = typeof result === 'function' ? result : null;
}

document.getElementById('logout').addEventListener('click', () => {
  clearToken();
  location.hash = '#/login';
});
document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', route);
route();
