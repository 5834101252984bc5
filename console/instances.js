// Instances: registered sources with their nodes, each node's role and replication read live from
// the servers (GET /api/v1/instances/NAME/nodes); register, discover nodes, add/remove a node.
import { api, el, clear, put, errorBox, field, poll, toast, enc, passwordChoice, domId } from './ui.js';

function registerForm(onDone) {
  const name = el('input', { name: 'name', required: true, autocomplete: 'off', placeholder: 'shop' });
  const endpoint = el('input', { name: 'endpoint', required: true, placeholder: '10.0.0.10:3306', autocomplete: 'off' });
  const user = el('input', { name: 'user', required: true, value: 'dts', autocomplete: 'off' });
  const cred = { mode: 'inline', password: '', env: '' };
  const password = passwordChoice('inst', cred, 'stored in the server\'s data dir; never shown again',
                                  'Its nodes are probed with it as soon as the instance is registered.');
  const status = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'card form', id: 'register-form', novalidate: true },
    el('h2', {}, 'Register an instance'),
    el('div', { class: 'grid2' },
      field('Name', name, 'letters, digits, - and _'),
      field('Read/write endpoint', endpoint, 'host:port, always routed to the current primary'),
      field('User', user),
      password.node),
    status,
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary' }, 'Register'),
      el('button', { type: 'button', onclick: () => onDone(false) }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(status);
    const bad = password.check();
    if (bad) { status.append(errorBox(bad.message)); bad.focus.focus(); return; }
    const body = { name: name.value.trim(), endpoint: endpoint.value.trim(), user: user.value.trim(), ...password.spec() };
    try {
      await api('POST', '/api/v1/instances', body);
      toast('Instance ' + body.name + ' registered. Use "Discover nodes" to add its nodes.', 'ok');
      onDone(true);
    } catch (e) {
      status.append(errorBox(e));
      const passwordIds = { password: 'inst-password', password_env: 'inst-password-env' };
      const at = { name, endpoint, user }[e.field] ||
        (passwordIds[e.field] ? document.getElementById(passwordIds[e.field]) : null);
      (at || name).focus();
    }
  });
  form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') onDone(false); });
  setTimeout(() => name.focus());
  return form;
}

// node-2 before node-10.
function byName(a, b) { return a.localeCompare(b, 'en', { numeric: true }); }

function roleCell(probe) {
  if (!probe) return el('span', { class: 'muted' }, 'reading…');
  if (!probe.reachable) return el('span', { class: 'badge s-failed', title: probe.error }, 'unreachable');
  return el('span', { class: 'badge role-' + probe.role }, probe.role);
}

function replicationCell(probe) {
  if (!probe) return '';
  if (!probe.reachable) return el('span', { class: 'small' }, probe.error);
  const r = probe.replication;
  if (!r) return el('span', { class: 'muted' }, probe.role === 'primary' ? 'source of replication' : 'not replicating');
  const healthy = r.io_running === 'Yes' && r.sql_running === 'Yes';
  return el('span', {},
    el('span', { class: healthy ? 'ok-text' : 'bad-text' },
       healthy ? 'running' : 'IO ' + r.io_running + ', SQL ' + r.sql_running),
    ' from server ', r.master_server_id,
    r.error ? el('div', { class: 'small bad-text' }, r.error) : null);
}

function lagCell(probe) {
  if (!probe || !probe.reachable || !probe.replication) return '—';
  const s = probe.replication.seconds_behind;
  return s === null ? 'unknown' : s + ' s';  // Seconds_Behind_Master: whole seconds
}

function instanceCard(inst, live, refresh) {
  const status = el('div', { 'aria-live': 'polite' });
  const act = async (what, fn) => {
    clear(status);
    try { await fn(); refresh(); } catch (e) { status.append(errorBox(e)); }
  };
  const nodeName = el('input', { name: 'node', placeholder: 'node-4', required: true, autocomplete: 'off' });
  const nodeEp = el('input', { name: 'node-endpoint', placeholder: '10.0.0.14:3306', required: true, autocomplete: 'off' });
  const addForm = el('form', { class: 'inline-form', hidden: true, novalidate: true },
    field('Node name', nodeName), field('Direct endpoint', nodeEp),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, 'Add node'),
       el('button', { type: 'button', onclick: () => { addForm.hidden = true; } }, 'Cancel')));
  addForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act('add', async () => {
      await api('POST', '/api/v1/instances/' + enc(inst.name) + '/nodes',
                { name: nodeName.value.trim(), endpoint: nodeEp.value.trim() });
      toast('Node ' + nodeName.value.trim() + ' added', 'ok');
      addForm.hidden = true;
    });
  });
  addForm.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') addForm.hidden = true; });
  const liveNodes = new Map(((live && live.nodes) || []).map((n) => [n.name, n]));
  const nodes = (inst.nodes || []).slice().sort((a, b) => byName(a.name, b.name));
  const rows = nodes.map((n) => {
    const p = live ? liveNodes.get(n.name) : null;
    return el('tr', {},
      el('td', { 'data-label': 'Node' }, el('strong', {}, n.name)),
      el('td', { 'data-label': 'Endpoint' }, el('code', {}, n.endpoint)),
      el('td', { 'data-label': 'Role' }, roleCell(p)),
      el('td', { 'data-label': 'Replication' }, replicationCell(p)),
      el('td', { 'data-label': 'Lag' }, lagCell(p)),
      el('td', { 'data-label': 'GTID' }, el('code', { class: 'small' }, p && p.gtid_position ? p.gtid_position : '—')),
      el('td', { class: 'row-actions' },
        el('button', { type: 'button', class: 'danger quiet', 'aria-label': 'Remove node ' + n.name,
          onclick: () => {
            if (!confirm('Remove node ' + n.name + ' from ' + inst.name + '? A task reading it fails.')) return;
            act('remove', () => api('DELETE', '/api/v1/instances/' + enc(inst.name) + '/nodes/' + enc(n.name)));
          } }, 'Remove')));
  });
  const ep = live ? live.endpoint : null;
  return el('section', { class: 'card instance', 'aria-labelledby': domId('inst', inst.name) },
    el('div', { class: 'card-head' },
      el('div', {},
        el('h2', { id: domId('inst', inst.name) }, inst.name),
        el('div', { class: 'meta' },
          'read/write endpoint ', el('code', {}, inst.endpoint), ' · user ', el('code', {}, inst.user || '—'),
          ' · ', ep ? (ep.reachable ? el('span', { class: 'ok-text' }, 'reachable, server ' + ep.server_id + ' (' + ep.version + ')')
                                    : el('span', { class: 'bad-text' }, 'unreachable: ' + ep.error))
                    : el('span', { class: 'muted' }, 'reading…'))),
      el('div', { class: 'actions' },
        el('button', { type: 'button', onclick: () => act('discover', async () => {
          const r = await api('POST', '/api/v1/instances/' + enc(inst.name) + '/discover');
          toast(r.added.length ? 'Added ' + r.added.map((n) => n.name).sort(byName).join(', ')
                               : 'No new nodes (' + r.found.length + ' reported)', 'ok');
        }) }, 'Discover nodes'),
        el('button', { type: 'button', onclick: () => { addForm.hidden = false; nodeName.focus(); } }, 'Add node'),
        el('button', { type: 'button', class: 'danger quiet', onclick: () => {
          if (!confirm('Delete instance ' + inst.name + '?')) return;
          act('delete', () => api('DELETE', '/api/v1/instances/' + enc(inst.name)));
        } }, 'Delete'))),
    status, addForm,
    nodes.length
      ? el('table', { class: 'grid nodes' },
          el('thead', {}, el('tr', {}, ['Node', 'Endpoint', 'Role (live)', 'Replication', 'Lag', 'GTID position', ''].map((h) => el('th', { scope: 'col' }, h || el('span', { class: 'sr-only' }, 'Actions'))))),
          el('tbody', {}, rows))
      : el('p', { class: 'empty-inline' }, 'No nodes registered. "Discover nodes" asks the primary for its secondaries; or add one by hand.'));
}

export function instancesPage(root) {
  const list = el('div', { id: 'instances' }, el('p', { class: 'muted' }, 'Loading instances…'));
  const formSlot = el('div');
  const live = new Map();
  let instances = null;
  const render = () => {
    clear(list);
    if (!instances.length) {
      list.append(el('div', { class: 'empty' },
        el('h2', {}, 'No instances yet'),
        el('p', {}, 'Register a database (a single server, or a cluster\'s read/write endpoint) to use it as a task source and read from its secondary nodes.'),
        el('button', { type: 'button', class: 'primary', onclick: showForm }, 'Register an instance')));
      return;
    }
    for (const inst of instances) list.append(instanceCard(inst, live.get(inst.name), refresh));
  };
  const loadLive = async () => {
    if (!instances) return;
    await Promise.all(instances.map(async (inst) => {
      try { live.set(inst.name, await api('GET', '/api/v1/instances/' + enc(inst.name) + '/nodes')); }
      catch (e) { live.set(inst.name, { endpoint: { reachable: false, error: e.message }, nodes: [] }); }
    }));
    if (!formOpen() && !list.contains(document.activeElement) ) render();
  };
  const formOpen = () => list.querySelector('.inline-form:not([hidden])') !== null;
  const refresh = async () => {
    try {
      instances = (await api('GET', '/api/v1/instances')).instances;
      render();
      await loadLive();
      render();
    } catch (e) { put(list, errorBox(e)); }
  };
  function showForm() {
    put(formSlot, registerForm((changed) => { clear(formSlot); if (changed) refresh(); }));
  }
  root.append(
    el('div', { class: 'page-head' },
      el('h1', {}, 'Instances'),
      el('button', { type: 'button', class: 'primary', id: 'register', onclick: showForm }, 'Register instance')),
    formSlot, list);
  refresh();
  const stop = poll(loadLive, 10000);
  return stop;
}
