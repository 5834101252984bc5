// Create a task, in the order of the vendor's flow: source -> destination -> objects -> options ->
// precheck and start. Each step is a form: Enter goes on, Escape goes back; focus moves to the
// step's heading. The task is created (POST /api/v1/tasks) only at the precheck step; going back
// and changing something deletes that not-yet-started task and creates it again.
import { api, el, clear, put, errorBox, field, toast, enc, passwordChoice, domId, uniqueId } from './ui.js';

const STEPS = ['Source', 'Destination', 'Objects', 'Options', 'Precheck and start'];

function newState() {
  return {
    name: '', kind: 'sync',
    // cred: the password typed here or the name of a variable in the server's environment.
    src: { mode: 'instance', instance: '', node: '', endpoint: '', user: 'dts', cred: { mode: 'inline', password: '', env: '' } },
    dst: { endpoint: '', user: 'dts', cred: { mode: 'inline', password: '', env: '' } },
    databases: null,          // [names] once browsed
    objects: new Map(),       // db -> {selected, rename_to, open, tables: null | [{name, columns, estimated_rows}], picked: Map(table -> sel)}
    options: {
      retry_time_for_failed_connections: 720, retry_time_for_other_issues: 10,
      conflicting_tables: 'precheck', parallelism: 4, ddl: true, incremental: true,
      full_max_rps: 0, full_max_mbps: 0, inc_max_rps: 0, inc_max_mbps: 0,
      verify_full: false, verify_schema: false,
    },
    created: null,            // the name of the task this wizard created and has not started
  };
}

function sourceSpec(s) {
  if (s.src.mode === 'instance') {
    const spec = { instance: s.src.instance };
    if (s.src.node) spec.secondary_node = s.src.node;
    return spec;
  }
  return { endpoint: s.src.endpoint, user: s.src.user, ...credSpec(s.src.cred) };
}

// {password} or {password_env} (or nothing) of an endpoint's credentials.
function credSpec(c) {
  if (c.mode === 'env') return c.env ? { password_env: c.env } : {};
  return c.password ? { password: c.password } : {};
}

function destinationSpec(s) {
  return { endpoint: s.dst.endpoint, user: s.dst.user, ...credSpec(s.dst.cred) };
}

// The task in its JSON form (the same shape as a task file).
export function taskBody(s) {
  const objects = [];
  for (const [db, o] of s.objects) {
    if (!o.selected) continue;
    const sel = { database: db };
    if (o.rename_to) sel.rename_to = o.rename_to;
    if (o.tables) {
      const picked = o.tables.filter((t) => o.picked.get(t.name).selected);
      const customised = picked.some((t) => {
        const p = o.picked.get(t.name);
        return p.rename_to || p.where || p.columns.size !== t.columns.length || p.dml.size !== 3;
      });
      if (picked.length !== o.tables.length || customised) {
        sel.tables = picked.map((t) => {
          const p = o.picked.get(t.name);
          const ts = { name: t.name };
          if (p.rename_to) ts.rename_to = p.rename_to;
          if (p.columns.size !== t.columns.length)
            ts.columns = t.columns.map((c) => c.name).filter((c) => p.columns.has(c));
          if (p.where) ts.where = p.where;
          if (p.dml.size !== 3) ts.dml = ['insert', 'update', 'delete'].filter((d) => p.dml.has(d));
          return ts;
        });
      }
    }
    objects.push(sel);
  }
  const o = s.options;
  const options = {
    parallelism: Number(o.parallelism), ddl: o.ddl, conflicting_tables: o.conflicting_tables,
    retry_time_for_failed_connections: Number(o.retry_time_for_failed_connections),
    retry_time_for_other_issues: Number(o.retry_time_for_other_issues),
    full: { max_rps: Number(o.full_max_rps), max_mbps: Number(o.full_max_mbps) },
    incremental_limits: { max_rps: Number(o.inc_max_rps), max_mbps: Number(o.inc_max_mbps) },
  };
  if (s.kind === 'migration') options.incremental = o.incremental;
  if (o.verify_full || o.verify_schema) options.verify = { full: o.verify_full, schema: o.verify_schema };
  return { name: s.name, kind: s.kind, source: sourceSpec(s), destination: destinationSpec(s), objects, options };
}

function testResult(r) {
  const head = r.ok ? el('div', { class: 'alert ok', role: 'status' }, el('strong', {}, 'Connection OK: '), r.message,
                          r.version ? ' · ' + r.version : '', r.read_only ? ' · read-only' : '')
                    : el('div', { class: 'alert error', role: 'alert' },
                          el('strong', {}, r.refused ? 'Refused: ' : 'Failed: '), r.message,
                          r.hint ? el('div', { class: 'hint' }, r.hint) : null);
  return el('div', { class: 'test-result' }, head, checkList(r.checks || []));
}

// What to do when the server does not have the named variable.
function envHint(e) {
  return e.field === 'password_env'
    ? 'Set the variable in the environment of the dts server process (for the service: an Environment= line of dts.service, then restart it), or type the password here instead.'
    : '';
}

// The error also where it happened: the field is marked invalid and says why, until it changes.
function markInvalid(input, message) {
  const box = input.closest('.field');
  if (!box || input.getAttribute('aria-invalid') === 'true') return;
  if (!input.id) input.id = uniqueId('f');
  const note = el('div', { class: 'field-error', id: input.id + '-error' }, message);
  box.append(note);
  const described = input.getAttribute('aria-describedby');
  input.setAttribute('aria-describedby', (described ? described + ' ' : '') + note.id);
  input.setAttribute('aria-invalid', 'true');
  const clearIt = () => {
    note.remove();
    input.removeAttribute('aria-invalid');
    if (described) input.setAttribute('aria-describedby', described); else input.removeAttribute('aria-describedby');
    input.removeEventListener('input', clearIt);
    input.removeEventListener('change', clearIt);
  };
  input.addEventListener('input', clearIt);
  input.addEventListener('change', clearIt);
}

function levelIcon(level) {
  const text = { ok: 'OK', pass: 'OK', warn: 'Warning', fail: 'Failed' }[level] || level;
  return el('span', { class: 'level l-' + level }, text);
}

function checkList(items) {
  if (!items.length) return null;
  return el('ul', { class: 'checks' }, items.map((i) => el('li', { class: 'check l-' + i.level },
    levelIcon(i.level), el('span', { class: 'check-name' }, i.name), el('span', { class: 'check-msg' }, i.message),
    i.hint ? el('div', { class: 'hint' }, 'Fix: ', i.hint) : null)));
}

function counts(items) {
  const n = (l) => items.filter((i) => i.level === l).length;
  return '(' + [[n('ok'), 'OK'], [n('warn'), 'warning'], [n('fail'), 'failed']]
    .filter(([c]) => c).map(([c, w]) => c + ' ' + w + (c > 1 && w === 'warning' ? 's' : '')).join(', ') + ')';
}

function input(attrs, get, set) {
  const node = el('input', attrs);
  node.value = get();
  node.addEventListener('input', () => set(node.type === 'checkbox' ? node.checked : node.value));
  return node;
}

function select(options, get, set, attrs) {
  const node = el('select', attrs || {}, options.map(([v, label]) => el('option', { value: v }, label)));
  node.value = get();
  node.addEventListener('change', () => set(node.value));
  return node;
}

export function wizardPage(root) {
  const s = newState();
  let step = 0;
  let instances = [];
  const body = el('div');
  const stepper = el('ol', { class: 'stepper', 'aria-label': 'Steps' });
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Create a task')), stepper, body);

  const invalidate = async () => {
    // Something changed after the task was created for the precheck: forget that task.
    if (!s.created) return;
    const name = s.created;
    s.created = null;
    try { await api('DELETE', '/api/v1/tasks/' + enc(name)); } catch (e) { /* already gone */ }
  };

  function renderStepper() {
    clear(stepper);
    STEPS.forEach((label, i) => stepper.append(el('li', {
      class: i < step ? 'done' : i === step ? 'current' : '', 'aria-current': i === step ? 'step' : null },
      el('span', { class: 'num' }, String(i + 1)), el('span', { class: 'label' }, label))));
  }

  function go(to) {
    step = to;
    render();
  }

  // A step: a form whose submit (Enter, or the Next button) runs next(); Escape goes back.
  function stepForm(title, content, next, opts) {
    const status = el('div', { class: 'step-status', 'aria-live': 'polite' });
    const heading = el('h2', { tabindex: '-1' }, 'Step ' + (step + 1) + ' of ' + STEPS.length + ': ' + title);
    const nextLabel = (opts && opts.nextLabel) || 'Next';
    const form = el('form', { class: 'card wizard', novalidate: true },
      heading, content, status,
      el('div', { class: 'actions' },
        nextLabel ? el('button', { type: 'submit', class: 'primary' }, nextLabel) : null,
        step > 0 ? el('button', { type: 'button', onclick: () => go(step - 1) }, 'Back') : null,
        el('span', { class: 'kbd-help' }, 'Enter: next · Escape: back')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(status);
      try {
        const err = await next();
        if (err) {
          status.append(errorBox(err.message || err));
          if (err.focus) { markInvalid(err.focus, err.message); err.focus.focus(); }
        }
      } catch (e) {
        status.append(errorBox(e));
      }
    });
    form.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && step > 0) { ev.preventDefault(); go(step - 1); }
    });
    // An error under the form is about what was there when Next was pressed: a change clears it.
    form.addEventListener('change', () => { if (status.querySelector('.alert.error')) clear(status); });
    put(body, form);
    heading.focus();
    return status;
  }

  function render() {
    renderStepper();
    [sourceStep, destinationStep, objectsStep, optionsStep, precheckStep][step]();
  }

  // Step 1: the task's name and kind, and where it reads.
  function sourceStep() {
    const name = input({ name: 'task-name', required: true, autocomplete: 'off', placeholder: 'shop-sync' },
                       () => s.name, (v) => { s.name = v.trim(); });
    const kind = select([['sync', 'sync'], ['migration', 'migration']],
                        () => s.kind, (v) => { s.kind = v; }, { name: 'kind' });
    const modeInstance = el('input', { type: 'radio', name: 'src-mode', value: 'instance', id: 'src-mode-instance', checked: s.src.mode === 'instance' });
    const modeEndpoint = el('input', { type: 'radio', name: 'src-mode', value: 'endpoint', id: 'src-mode-endpoint', checked: s.src.mode === 'endpoint' });
    const instSel = el('select', { name: 'instance', id: 'src-instance' });
    const nodeSel = el('select', { name: 'secondary-node', id: 'src-node' });
    const credentials = el('p', { class: 'help' });
    const ep = input({ name: 'src-endpoint', placeholder: '10.0.0.10:3306', autocomplete: 'off' }, () => s.src.endpoint, (v) => { s.src.endpoint = v.trim(); });
    const user = input({ name: 'src-user', autocomplete: 'off' }, () => s.src.user, (v) => { s.src.user = v.trim(); });
    const pw = passwordChoice('src', s.src.cred, 'kept with the task on the server, never shown again');
    const instanceBox = el('div', { class: 'grid2' },
      field('Instance', instSel),
      field('Read from', nodeSel),
      el('div', { class: 'note span2', id: 'node-note' },
        el('strong', {}, 'Secondary node: '),
        'dts reads the snapshot and the binlog from that node\'s direct endpoint, keeping load off the primary. ',
        'The node must be a secondary of the instance and log what it replicates (log_slave_updates=ON, binlog_format=ROW). ',
        'If it is promoted the task keeps running; if it is removed from the instance the task fails. ',
        'Without one, dts reads the read/write endpoint (the current primary).'),
      el('div', { class: 'span2' }, credentials));
    const endpointBox = el('div', { class: 'grid2' },
      field('Endpoint', ep, 'host:port'), field('User', user), pw.node);
    const result = el('div', { 'aria-live': 'polite', id: 'src-test-result' });
    const fillNodes = () => {
      const inst = instances.find((i) => i.name === s.src.instance);
      put(nodeSel, el('option', { value: '' }, 'Read/write endpoint (the primary)'));
      for (const n of (inst && inst.nodes) || []) nodeSel.append(el('option', { value: n.name }, 'Secondary node ' + n.name + ' (' + n.endpoint + ')'));
      nodeSel.value = s.src.node;
      if (nodeSel.value !== s.src.node) s.src.node = '';
      put(credentials, inst ? ['Credentials: the instance\'s (user ', el('code', {}, inst.user || '—'),
        inst.password_env ? [', password from the server\'s environment variable ', el('code', {}, inst.password_env)] : inst.password ? ', password set' : '', ').'] : '');
    };
    const show = () => {
      instanceBox.hidden = s.src.mode !== 'instance';
      endpointBox.hidden = s.src.mode !== 'endpoint';
    };
    modeInstance.addEventListener('change', () => { s.src.mode = 'instance'; show(); });
    modeEndpoint.addEventListener('change', () => { s.src.mode = 'endpoint'; show(); });
    instSel.addEventListener('change', () => { s.src.instance = instSel.value; s.src.node = ''; fillNodes(); });
    nodeSel.addEventListener('change', () => { s.src.node = nodeSel.value; });
    const test = el('button', { type: 'button', id: 'test-source', onclick: async () => {
      put(result, el('p', { class: 'muted' }, 'Testing…'));
      try { put(result, testResult(await api('POST', '/api/v1/connections/test', { role: 'source', ...sourceSpec(s) }))); }
      catch (e) { put(result, errorBox(e, envHint(e))); }
    } }, 'Test connection');
    const content = el('div', {},
      el('div', { class: 'grid2' }, field('Task name', name, 'letters, digits, - and _'), field('Kind', kind, 'sync: schema + full data + continuous changes; migration: schema + full data, optionally followed by changes')),
      el('fieldset', {}, el('legend', {}, 'Source'),
        el('div', { class: 'radios' },
          el('label', { for: 'src-mode-instance' }, modeInstance, ' A registered instance'),
          el('label', { for: 'src-mode-endpoint' }, modeEndpoint, ' An endpoint')),
        instanceBox, endpointBox,
        el('div', { class: 'actions' }, test), result));
    const status = stepForm('Source', content, async () => {
      if (!s.name) return { message: 'task name: required', focus: name };
      if (s.src.mode === 'instance' && !s.src.instance) return { message: 'instance: choose one (register it on the Instances page)', focus: instSel };
      if (s.src.mode === 'endpoint' && (!s.src.endpoint || !s.src.user)) return { message: 'source endpoint and user: required', focus: ep };
      if (s.src.mode === 'endpoint' && pw.check()) return pw.check();
      await invalidate();
      go(1);
    });
    show();
    api('GET', '/api/v1/instances').then((r) => {
      instances = r.instances;
      put(instSel, el('option', { value: '' }, instances.length ? 'Choose an instance…' : 'No instances registered'));
      for (const i of instances) instSel.append(el('option', { value: i.name }, i.name + ' (' + i.endpoint + ')'));
      if (!s.src.instance && instances.length === 1) s.src.instance = instances[0].name;
      instSel.value = s.src.instance;
      fillNodes();
      if (!instances.length && s.src.mode === 'instance')
        status.append(el('p', { class: 'alert warn' }, 'No instance is registered. ', el('a', { href: '#/instances' }, 'Register one'), ', or read from an endpoint.'));
    }).catch((e) => status.append(errorBox(e)));
  }

  // Step 2: the destination, never a registered secondary node.
  function destinationStep() {
    const ep = input({ name: 'dst-endpoint', required: true, placeholder: '10.0.0.20:3306', autocomplete: 'off' }, () => s.dst.endpoint, (v) => { s.dst.endpoint = v.trim(); });
    const user = input({ name: 'dst-user', required: true, autocomplete: 'off' }, () => s.dst.user, (v) => { s.dst.user = v.trim(); });
    const pw = passwordChoice('dst', s.dst.cred, 'kept with the task on the server (mode 0600), never shown again');
    const result = el('div', { 'aria-live': 'polite', id: 'dst-test-result' });
    const runTest = async () => api('POST', '/api/v1/connections/test', { role: 'destination', ...destinationSpec(s) });
    const test = el('button', { type: 'button', id: 'test-destination', onclick: async () => {
      put(result, el('p', { class: 'muted' }, 'Testing…'));
      try { put(result, testResult(await runTest())); } catch (e) { put(result, errorBox(e, envHint(e))); }
    } }, 'Test connection');
    stepForm('Destination', el('div', {},
      el('p', { class: 'help' }, 'A MySQL or MariaDB server that accepts writes. A registered secondary node is refused: it would diverge from its primary.'),
      el('div', { class: 'grid2' }, field('Endpoint', ep, 'host:port'), field('User', user), pw.node),
      el('div', { class: 'actions' }, test), result), async () => {
      if (!s.dst.endpoint || !s.dst.user) return { message: 'destination endpoint and user: required', focus: ep };
      if (pw.check()) return pw.check();
      const r = await runTest();
      if (r.refused) { put(result, testResult(r)); return { message: 'this destination is refused (see above): choose another one', focus: ep }; }
      await invalidate();
      go(2);
    });
  }

  // Step 3: databases and tables of the source, browsed live.
  function objectsStep() {
    const tree = el('div', { class: 'objects' }, el('p', { class: 'muted' }, 'Reading the source\'s databases…'));
    const status = stepForm('Objects', el('div', {},
      el('p', { class: 'help' }, 'Pick whole databases, or open one to pick tables, rename them, keep some columns, filter rows (WHERE) and choose which changes (DML) to apply.'),
      tree), async () => {
      const body = taskBody(s);
      if (!body.objects.length) return { message: 'objects: pick at least one database' };
      await invalidate();
      go(3);
    });
    const draw = () => {
      clear(tree);
      if (!s.databases.length) { tree.append(el('p', { class: 'empty-inline' }, 'The source has no databases of its own (only the system ones).')); return; }
      for (const db of s.databases) tree.append(dbNode(db));
    };
    const dbNode = (db) => {
      if (!s.objects.has(db)) s.objects.set(db, { selected: false, rename_to: '', open: false, tables: null, picked: new Map() });
      const o = s.objects.get(db);
      const cb = el('input', { type: 'checkbox', id: domId('db', db), name: 'db', value: db, checked: o.selected });
      cb.addEventListener('change', () => { o.selected = cb.checked; });
      const rename = input({ name: 'db-rename-' + db, placeholder: db, autocomplete: 'off', class: 'narrow' }, () => o.rename_to, (v) => { o.rename_to = v.trim(); });
      const tablesBox = el('div', { class: 'tables' });
      const toggle = el('button', { type: 'button', class: 'quiet', 'aria-expanded': String(o.open), 'aria-controls': domId('tables', db), id: domId('open', db),
        onclick: async () => { o.open = !o.open; toggle.setAttribute('aria-expanded', String(o.open)); toggle.textContent = o.open ? 'Hide tables' : 'Tables…'; await fillTables(); } },
        o.open ? 'Hide tables' : 'Tables…');
      tablesBox.id = domId('tables', db);
      const fillTables = async () => {
        clear(tablesBox);
        if (!o.open) return;
        if (!o.tables) {
          tablesBox.append(el('p', { class: 'muted' }, 'Reading tables…'));
          try {
            const r = await api('POST', '/api/v1/browse', { ...sourceSpec(s), database: db });
            o.tables = r.tables;
            for (const t of o.tables) o.picked.set(t.name, { selected: true, rename_to: '', where: '', columns: new Set(t.columns.map((c) => c.name)), dml: new Set(['insert', 'update', 'delete']) });
          } catch (e) { put(tablesBox, errorBox(e)); return; }
        }
        clear(tablesBox);
        if (!o.tables.length) { tablesBox.append(el('p', { class: 'empty-inline' }, 'No tables in ' + db + '.')); return; }
        for (const t of o.tables) tablesBox.append(tableNode(db, t, o.picked.get(t.name)));
      };
      const node = el('div', { class: 'db' },
        el('div', { class: 'db-row' },
          el('label', { for: cb.id, class: 'db-name' }, cb, ' ', el('strong', {}, db)),
          el('label', { class: 'inline' }, 'rename to ', rename),
          toggle),
        tablesBox);
      fillTables();
      return node;
    };
    const tableNode = (db, t, p) => {
      const id = domId('t', db, t.name);
      const cb = el('input', { type: 'checkbox', id, checked: p.selected });
      cb.addEventListener('change', () => { p.selected = cb.checked; });
      const rename = input({ placeholder: t.name, autocomplete: 'off', name: 'rename-' + id }, () => p.rename_to, (v) => { p.rename_to = v.trim(); });
      const where = input({ placeholder: "e.g. status <> 'test'", autocomplete: 'off', name: 'where-' + id }, () => p.where, (v) => { p.where = v.trim(); });
      const cols = el('div', { class: 'chips', role: 'group', 'aria-label': 'Columns of ' + t.name },
        t.columns.map((c) => {
          const ccb = el('input', { type: 'checkbox', checked: p.columns.has(c.name), id: domId('c', db, t.name, c.name) });
          ccb.addEventListener('change', () => { if (ccb.checked) p.columns.add(c.name); else p.columns.delete(c.name); });
          return el('label', { class: 'chip', for: ccb.id }, ccb, ' ', c.name, el('span', { class: 'muted' }, ' ' + c.type));
        }));
      const dml = el('div', { class: 'chips', role: 'group', 'aria-label': 'Changes applied to ' + t.name },
        ['insert', 'update', 'delete'].map((d) => {
          const dcb = el('input', { type: 'checkbox', checked: p.dml.has(d), id: domId('d', db, t.name, d) });
          dcb.addEventListener('change', () => { if (dcb.checked) p.dml.add(d); else p.dml.delete(d); });
          return el('label', { class: 'chip', for: dcb.id }, dcb, ' ', d);
        }));
      return el('div', { class: 'table-pick' },
        el('div', { class: 'db-row' },
          el('label', { for: cb.id }, cb, ' ', el('code', {}, t.name)),
          el('span', { class: 'muted small' }, '~' + t.estimated_rows.toLocaleString('en-US') + ' rows', t.has_key ? '' : ' · no primary key')),
        el('details', {}, el('summary', {}, 'Rename, columns, WHERE, changes'),
          el('div', { class: 'grid2' }, field('Rename to', rename), field('WHERE filter', where, 'rows the task moves; a boolean SQL expression')),
          el('div', { class: 'field' }, el('span', { class: 'label' }, 'Columns'), cols),
          el('div', { class: 'field' }, el('span', { class: 'label' }, 'Changes to apply (DML)'), dml)));
    };
    if (s.databases) { draw(); return; }
    api('POST', '/api/v1/browse', sourceSpec(s)).then((r) => { s.databases = r.databases; draw(); })
      .catch((e) => { put(tree, errorBox(e, 'check the source on step 1 (Test connection)')); status.append(''); });
  }

  // Step 4: options, with their ranges and defaults.
  function optionsStep() {
    const o = s.options;
    const num = (key, min, max, attrs) => input({ type: 'number', min, max, step: attrs && attrs.step || 1, name: key, required: true, inputmode: 'numeric' }, () => String(o[key]), (v) => { o[key] = v; });
    const conflict = select([['precheck', 'precheck: refuse when destination tables exist'], ['ignore', 'ignore: write into existing tables']], () => o.conflicting_tables, (v) => { o.conflicting_tables = v; }, { name: 'conflicting_tables' });
    const ddl = input({ type: 'checkbox', name: 'ddl', checked: o.ddl }, () => '', (v) => { o.ddl = v; });
    ddl.checked = o.ddl;
    const incr = input({ type: 'checkbox', name: 'incremental', checked: o.incremental }, () => '', (v) => { o.incremental = v; });
    incr.checked = o.incremental;
    const retryConn = num('retry_time_for_failed_connections', 10, 1440);
    const retryOther = num('retry_time_for_other_issues', 1, 1440);
    const par = num('parallelism', 1, 64);
    const check = (key, label) => {
      const cb = input({ type: 'checkbox', name: key }, () => '', (v) => { o[key] = v; });
      cb.checked = o[key];
      return el('label', { class: 'check-field' }, cb, ' ', label);
    };
    stepForm('Options', el('div', {},
      el('fieldset', {}, el('legend', {}, 'Retries'),
        el('div', { class: 'grid2' },
          field('Retry time for failed connections (minutes)', retryConn, '10–1440, default 720. Within this window a lost source or destination is retried and the task resumes from its checkpoint.'),
          field('Retry time for other issues (minutes)', retryOther, '1–1440, default 10; smaller than the above.'))),
      el('fieldset', {}, el('legend', {}, 'Writing'),
        el('div', { class: 'grid2' },
          field('Conflicting tables', conflict),
          field('Parallelism', par, '1–64 workers, default 4'),
          el('label', { class: 'check-field' }, ddl, ' Replicate DDL of the selected objects'),
          s.kind === 'migration' ? el('label', { class: 'check-field' }, incr, ' Continue with incremental changes after full data') : null)),
      el('fieldset', {}, el('legend', {}, 'Throttling (0 = unlimited)'),
        el('div', { class: 'grid4' },
          field('Full data rows/s', num('full_max_rps', 0, 1e9)),
          field('Full data MB/s', num('full_max_mbps', 0, 1e6, { step: 'any' })),
          field('Incremental rows/s', num('inc_max_rps', 0, 1e9)),
          field('Incremental MB/s', num('inc_max_mbps', 0, 1e6, { step: 'any' })))),
      el('fieldset', {}, el('legend', {}, 'Verification'),
        el('p', { class: 'help' }, 'Compares the destination with the source once full data is done (beside the incremental phase of a sync: a differing chunk is checked again once the destination has caught up). Results on the task page.'),
        el('div', { class: 'grid2' },
          check('verify_full', 'Compare the data (checksums of key ranges, down to rows)'),
          check('verify_schema', 'Compare the schema (columns, types, keys)')))), async () => {
      const rc = Number(o.retry_time_for_failed_connections), ro = Number(o.retry_time_for_other_issues);
      if (!(rc >= 10 && rc <= 1440)) return { message: 'retry time for failed connections: must be 10–1440 minutes', focus: retryConn };
      if (!(ro >= 1 && ro <= 1440) || ro >= rc) return { message: 'retry time for other issues: must be 1–1440 minutes and smaller than the connection window', focus: retryOther };
      const p = Number(o.parallelism);
      if (!(Number.isInteger(p) && p >= 1 && p <= 64)) return { message: 'parallelism: must be an integer 1–64', focus: par };
      await invalidate();
      go(4);
    }, { nextLabel: 'Next: precheck' });
  }

  // Step 5: create the task, run its precheck, start it.
  function precheckStep() {
    const summary = summaryOf(taskBody(s));
    const out = el('div', { 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Creating the task and running the precheck…'));
    let report = null;
    const status = stepForm('Precheck and start', el('div', {}, summary, el('h3', {}, 'Precheck'), out), async () => {
      if (!s.created) return { message: 'the task was not created; fix the error above' };
      if (!report || !report.passed) return { message: 'the precheck did not pass: fix the failed items (Back), then run it again' };
      const started = await api('POST', '/api/v1/tasks/' + enc(s.created) + '/start');
      toast('Task ' + started.name + ' started', 'ok');
      s.created = null;
      location.hash = '#/tasks/' + enc(started.name);
    }, { nextLabel: 'Start task' });
    const run = async () => {
      put(out, el('p', { class: 'muted' }, 'Running the precheck…'));
      try {
        if (!s.created) {
          const created = await api('POST', '/api/v1/tasks', taskBody(s));
          s.created = created.name;
        }
        report = await api('POST', '/api/v1/tasks/' + enc(s.created) + '/precheck');
        put(out, 
          el('div', { class: report.passed ? 'alert ok' : 'alert error', role: report.passed ? 'status' : 'alert', id: 'precheck-verdict' },
            (report.passed ? 'Precheck passed: the task can start. ' : 'Precheck failed: fix the items marked Failed, then run it again. ') +
            counts(report.items)),
          checkList(report.items),
          el('div', { class: 'actions' }, el('button', { type: 'button', onclick: run }, 'Run the precheck again')));
      } catch (e) {
        put(out, errorBox(e, e.field ? 'the field is ' + e.field + ': go Back to the step that sets it' : ''));
      }
    };
    run();
    return status;
  }

  function pwText(e) {
    return e.password_env ? ', password from $' + e.password_env + ' on the server' : e.password ? ', password typed' : ', no password';
  }

  function summaryOf(b) {
    const src = b.source.instance
      ? 'instance ' + b.source.instance + (b.source.secondary_node ? ', secondary node ' + b.source.secondary_node : ', read/write endpoint')
      : b.source.endpoint + ' as ' + b.source.user + pwText(b.source);
    const objs = b.objects.map((o) => o.database + (o.rename_to ? ' → ' + o.rename_to : '') +
      (o.tables ? ' (' + o.tables.map((t) => t.name + (t.rename_to ? ' → ' + t.rename_to : '')).join(', ') + ')' : ' (every table)')).join('; ');
    const rows = [['Task', b.name + ' (' + b.kind + ')'], ['Source', src], ['Destination', b.destination.endpoint + ' as ' + b.destination.user + pwText(b.destination)],
      ['Objects', objs], ['Options', 'parallelism ' + b.options.parallelism + ', conflicting tables: ' + b.options.conflicting_tables +
        ', retries ' + b.options.retry_time_for_failed_connections + ' / ' + b.options.retry_time_for_other_issues + ' min' + (b.options.ddl ? ', DDL' : ', no DDL') +
        (b.options.verify ? ', verify ' + [b.options.verify.full ? 'data' : '', b.options.verify.schema ? 'schema' : ''].filter(Boolean).join(' and ') : '')]];
    return el('dl', { class: 'summary' }, rows.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  render();
  return () => { invalidate(); };
}
