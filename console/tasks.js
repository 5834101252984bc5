// Tasks: the list (kind, state, phase, lag, rows/s; actions), and one task's page: the phases as a
// pipeline, per-table progress, live charts of lag and rows/s, retrying with its deadline, the
// last events and errors with their hints, the error history with each error's recovery. Everything is polled from the API.
import { api, el, clear, put, errorBox, poll, toast, enc, fmtNumber, fmtLag, fmtTime, fmtDateTime, fmtDuration, stateBadge, lagUnit } from './ui.js';

// The lag as shown: measured against the secondary node read, so while that node's own
// replication is stopped it is unknown, not a healthy number; while it runs, the node's own delay
// behind its primary follows it.
function lagText(t) {
  const r = t.source_replication;
  if (r && r.state === 'stopped') return 'unknown (node replication stopped)';
  const lag = fmtLag(t.replication_lag_seconds);
  if (r && r.state === 'running' && r.seconds_behind > 0) return lag + ' + node ' + fmtLag(r.seconds_behind);
  return lag;
}

// The secondary node's replication, when it needs the operator: stopped or broken (a warning:
// the task receives none of the primary's changes) or unreadable (a missing privilege).
function sourceReplicationNotice(t) {
  const r = t.source_replication;
  if (!r || (r.state !== 'stopped' && r.state !== 'unknown')) return null;
  const stopped = r.state === 'stopped';
  return el('div', { class: 'alert ' + (stopped ? 'warn' : 'info'), role: stopped ? 'alert' : 'status', id: 'source-replication' },
    el('strong', {}, stopped ? 'Source node replication stopped: ' : 'Source node replication health unknown: '),
    r.message,
    stopped && r.gtid_position ? el('div', { class: 'small' }, 'Node position ', el('code', {}, r.gtid_position)) : null,
    stopped ? el('div', { class: 'hint' }, 'Hint: fix the replication on ', el('code', {}, r.node), ' and START SLAVE; the task catches up by itself.') : null);
}
import { drawChart, pushSample, samplesOf } from './chart.js';

const POLL_MS = 2000;

// The actions a task's state allows (docs/api.md, "Task states").
function actionsFor(t) {
  switch (t.state) {
    case 'created': return ['start', 'delete'];
    case 'running': return ['pause', 'stop'];
    case 'paused': return ['resume', 'stop', 'delete'];
    case 'stopped': return ['start', 'delete'];
    case 'failed': return ['start', 'delete'];
    case 'completed': return ['delete'];
    default: return [];
  }
}

const LABELS = { start: 'Start', pause: 'Pause', resume: 'Resume', stop: 'Stop', delete: 'Delete' };

function actionButtons(t, after, statusSlot) {
  return actionsFor(t).map((a) => el('button', {
    type: 'button', class: a === 'delete' || a === 'stop' ? 'danger quiet' : a === 'pause' ? '' : 'primary',
    'data-action': a, 'aria-label': LABELS[a] + ' task ' + t.name,
    onclick: async (ev) => {
      if (a === 'delete' && !confirm('Delete task ' + t.name + '? Its state is forgotten; the destination\'s data stays.')) return;
      if (a === 'stop' && !confirm('Stop task ' + t.name + ' at its checkpoint?')) return;
      const b = ev.currentTarget;
      b.disabled = true;
      b.textContent = LABELS[a] + '…';
      try {
        if (a === 'delete') await api('DELETE', '/api/v1/tasks/' + enc(t.name));
        else await api('POST', '/api/v1/tasks/' + enc(t.name) + '/' + a);
        toast(LABELS[a] + ': ' + t.name + ' done', 'ok');
      } catch (e) {
        if (statusSlot) put(statusSlot, errorBox(e));
        else toast(e.message, 'error');
      }
      after(a);
    } }, LABELS[a]));
}

function progressPercent(t) {
  if (!t.rows_estimated) return null;
  return Math.min(100, Math.round((t.rows_done / Math.max(t.rows_estimated, 1)) * 100));
}

export function tasksPage(root) {
  const body = el('div', {}, el('p', { class: 'muted' }, 'Loading tasks…'));
  const status = el('div', { 'aria-live': 'polite' });
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Tasks'),
    el('a', { class: 'button primary', href: '#/new' }, 'Create task')), status, body);
  let busy = false;
  const load = async () => {
    if (busy) return;
    let tasks;
    try { tasks = (await api('GET', '/api/v1/tasks')).tasks; clear(status); }
    catch (e) { put(status, errorBox(e)); return; }
    const focused = document.activeElement && document.activeElement.getAttribute('aria-label');
    clear(body);
    if (!tasks.length) {
      body.append(el('div', { class: 'empty' }, el('h2', {}, 'No tasks yet'),
        el('p', {}, 'A task moves the data of a source into a destination: a migration (schema + full data), or a sync that keeps applying changes.'),
        el('a', { class: 'button primary', href: '#/new' }, 'Create your first task')));
      return;
    }
    const rows = tasks.map((t) => {
      const pct = progressPercent(t);
      return el('tr', { class: 'task-row', 'data-task': t.name },
        el('td', { 'data-label': 'Task' }, el('a', { href: '#/tasks/' + enc(t.name) }, el('strong', {}, t.name))),
        el('td', { 'data-label': 'Kind' }, t.kind),
        el('td', { 'data-label': 'State' }, stateBadge(t)),
        el('td', { 'data-label': 'Phase' }, t.phase, t.phase === 'full' && pct !== null ? ' ' + pct + '%' : ''),
        el('td', { 'data-label': 'Lag', class: 'num' }, lagText(t)),
        el('td', { 'data-label': 'Rows/s', class: 'num' }, t.running ? fmtNumber(t.rps, 0) : '—'),
        // Empty when there is no error: the narrow layout hides an empty cell with its label.
        el('td', { 'data-label': 'Last error', class: 'err-cell' }, t.last_error ? el('span', { class: 'bad-text small', title: t.last_error }, t.last_error) : null),
        el('td', { class: 'row-actions' }, actionButtons(t, () => { busy = false; load(); })));
    });
    body.append(el('table', { class: 'grid tasks' },
      el('caption', { class: 'sr-only' }, 'Tasks, refreshed every 2 seconds'),
      el('thead', {}, el('tr', {}, ['Task', 'Kind', 'State', 'Phase', 'Lag', 'Rows/s', 'Last error', 'Actions'].map((h) => el('th', { scope: 'col', class: h === 'Lag' || h === 'Rows/s' ? 'num' : '' }, h)))),
      el('tbody', {}, rows)));
    if (focused) { const again = body.querySelector(`[aria-label="${CSS.escape(focused)}"]`); if (again) again.focus(); }
  };
  return poll(load, POLL_MS);
}

const PHASES = [['prechecking', 'Precheck'], ['schema', 'Schema'], ['full', 'Full data'], ['incremental', 'Incremental']];

// A tracking task has no schema or full data: it logs the source's changes from its start.
const TRACKING_PHASES = [PHASES[0], ['incremental', 'Tracking']];

export function pipeline(t) {
  const migrationOnly = t.kind === 'migration' && t.config && t.config.options && t.config.options.incremental === false;
  const steps = t.kind === 'tracking' ? TRACKING_PHASES : migrationOnly ? PHASES.slice(0, 3) : PHASES;
  const order = steps.map(([p]) => p);
  let at = order.indexOf(t.phase);
  if (t.phase === 'completed') at = steps.length;
  else if (at < 0) {
    // paused, failed or created: the task stands where its work got to (a task that failed its
    // precheck was drawn as failed in Full data, after a "done" Schema it never started).
    const done = t.phases_done || {};
    if (t.state === 'created' || t.phase === 'created') at = -1;
    else if (!done.precheck) at = 0;
    else if (t.kind === 'tracking') at = 1;
    else if (!done.schema) at = 1;
    else if (!done.full) at = 2;
    else at = 3;
  }
  const pct = progressPercent(t);
  return el('ol', { class: 'pipeline n' + steps.length, 'aria-label': 'Phases' }, steps.map(([p, label], i) => {
    const state = i < at ? 'done' : i === at ? (t.running ? 'current' : 'stopped') : 'todo';
    let detail = state === 'done' ? 'done' : state === 'current' ? 'running' : state === 'stopped' ? t.state : '';
    if (p === 'full' && pct !== null && (state === 'current' || state === 'stopped')) detail = pct + '% · ' + fmtNumber(t.rows_done) + ' / ' + fmtNumber(t.rows_estimated) + ' rows';
    // Done is whole, whatever the estimate said (a where: filter loads fewer rows than the table has).
    const bar = p === 'full' && pct !== null ? (state === 'done' ? 100 : pct) : null;
    if (p === 'incremental' && state !== 'todo') detail = (state === 'current' ? 'lag ' + lagText(t) + ' · ' : '') + fmtNumber(t.changes_applied) + (t.kind === 'tracking' ? ' changes logged' : ' changes');
    const open = t.applier && t.applier.open_transaction;
    if (p === 'incremental' && state === 'current' && open) detail = 'lag ' + lagText(t) + ' · ' + (t.kind === 'tracking' ? 'logging ' : 'applying ') + fmtNumber(open.rows) + ' rows';
    return el('li', { class: 'phase p-' + state, 'aria-current': i === at ? 'step' : null },
      el('span', { class: 'phase-name' }, label), el('span', { class: 'phase-detail' }, detail),
      bar !== null ? el('span', { class: 'bar' }, el('span', { class: 'fill', 'data-pct': bar })) : null);
  }));
}

function setBars(root) {
  // Widths through the CSSOM (the page's Content-Security-Policy allows no inline style attributes).
  for (const f of root.querySelectorAll('.fill[data-pct]')) f.style.width = f.dataset.pct + '%';
}

function tablesTable(t) {
  if (t.kind === 'tracking') {
    if (!t.tables.length) return el('p', { class: 'empty-inline' }, 'No changes logged yet.');
    return el('table', { class: 'grid progress-table' },
      el('thead', {}, el('tr', {}, ['Table', 'Changes logged'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, t.tables.map((x) => el('tr', {},
        el('td', { 'data-label': 'Table' }, el('code', {}, x.source)),
        el('td', { 'data-label': 'Changes logged', class: 'num' }, fmtNumber(x.changes_applied))))));
  }
  if (!t.tables.length) return el('p', { class: 'empty-inline' }, 'No table progress yet (the schema and full-data phases list the tables).');
  return el('table', { class: 'grid progress-table' },
    el('thead', {}, el('tr', {}, ['Source', 'Target', 'Full data', 'Changes applied'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, t.tables.map((x) => {
      const est = Math.max(x.rows_estimated, x.rows_done);
      const pct = x.done ? 100 : est ? Math.min(99, Math.floor((x.rows_done / est) * 100)) : 0;
      return el('tr', {},
        el('td', { 'data-label': 'Source' }, el('code', {}, x.source)),
        el('td', { 'data-label': 'Target' }, el('code', {}, x.target)),
        el('td', { 'data-label': 'Full data' },
          el('div', { class: 'bar wide', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'aria-label': 'Full data of ' + x.source },
            el('span', { class: 'fill' + (x.done ? ' done' : ''), 'data-pct': pct })),
          // Done: the rows loaded (an estimate of the whole table says nothing once a where:
          // filter chose fewer).
          el('span', { class: 'small' }, x.done ? fmtNumber(x.rows_done) + ' rows · done' : fmtNumber(x.rows_done) + ' / ' + fmtNumber(est) + ' rows')),
        el('td', { 'data-label': 'Changes applied', class: 'num' }, fmtNumber(x.changes_applied)));
    })));
}

const VERIFY_LABEL = { running: 'running', equal: 'equal', different: 'different', failed: 'failed' };

// A shown value of a difference: the data's value (never a secret), NULL as a word.
function shownValue(v) {
  return v === null || v === undefined ? el('span', { class: 'muted' }, 'NULL') : el('code', {}, v);
}

// One element (the narrow layout spreads a cell's children apart): "id=7, region=eu".
function keyText(key) {
  return el('span', { class: 'key' }, Object.entries(key || {}).map(([c, v]) => [el('span', { class: 'muted' }, c + '='), shownValue(v)])
    .reduce((acc, part, i) => acc.concat(i ? [', '] : [], part), []));
}

function fmtSeconds(s) {
  if (!(s > 0)) return '—';
  return s < 0.1 ? 'under 0.1 s' : fmtNumber(s, s < 10 ? 1 : 0) + ' s';
}

// The verification results (options.verify) of a task: state, what was checked, and each
// difference with its key. v: the status's "verify"; settings: the task's options.verify
// ({full, schema}) or null.
export function verifyPanel(v, settings) {
  const configured = !!(settings && typeof settings === 'object' && (settings.full || settings.schema));
  if (!v && !configured) return null;
  const data = !settings || typeof settings !== 'object' || settings.full !== false;
  const section = el('section', { class: 'card verify', id: 'verify', 'aria-labelledby': 'verify-h' });
  const inc = v && v.incremental;
  if (!v || !v.state) {
    section.append(el('h2', { id: 'verify-h' }, 'Verification'),
      inc ? null : el('p', { class: 'empty-inline' }, 'Not run yet: it starts once full data is done.'),
      inc ? incrementalVerify(inc) : null);
    return section;
  }
  const diffs = (v.row_differences || 0) + (v.schema_differences || 0) + (inc ? inc.row_differences || 0 : 0);
  section.append(
    el('h2', { id: 'verify-h' }, 'Verification ', el('span', { class: 'badge v-' + v.state, id: 'verify-state' }, VERIFY_LABEL[v.state] || v.state)),
    el('dl', { class: 'facts' },
      fact('Tables', fmtNumber(v.tables_checked) + ' / ' + fmtNumber(v.tables_total)),
      data ? [fact('Chunks', fmtNumber(v.chunks)), fact('Rows checked', fmtNumber(v.rows_checked)),
              fact('Row differences', fmtNumber(v.row_differences), v.row_differences ? 'bad-text' : '')]
           : fact('Data', 'not compared (schema only)'),
      fact('Schema differences', fmtNumber(v.schema_differences), v.schema_differences ? 'bad-text' : ''),
      data ? fact('Re-checks', fmtNumber(v.rechecks)) : null,
      v.state === 'running' ? null : fact('Took', fmtSeconds(v.seconds))));
  if (v.state === 'failed') section.append(errorBox('verification could not run: ' + v.detail));
  else if (v.state === 'equal') section.append(el('p', { class: 'alert ok' }, data
    ? 'The destination holds what the source holds: every table checked is equal.'
    : 'The destination\'s schema matches the source\'s: every table checked is equal.'));
  else if (v.state === 'running') section.append(el('p', { class: 'muted' }, 'Running: a chunk that differs is checked again once the destination has caught up, so lag is not reported.'));
  else if (v.state === 'different') section.append(el('p', { class: 'alert error' }, fmtNumber(diffs) + ' difference' + (diffs === 1 ? '' : 's') + ' found. ',
    'To repair: ', el('code', {}, 'dts verify'), ' on this task\'s file with ', el('code', {}, '--fix repair.sql'),
    ' writes the SQL that would repair the destination, for you to review (it never runs it).'));
  if (inc) section.append(incrementalVerify(inc));
  for (const t of v.differing_tables || []) section.append(differingTable(t));
  if (v.detail && v.state !== 'failed')
    section.append(el('details', { class: 'report' }, el('summary', {}, 'Summary report'), el('pre', {}, v.detail)));
  return section;
}

// Incremental verification (options.verify.incremental): the changed rows compared once
// applied; a difference here makes the task's verify state "different" even when the full
// comparison found the destination equal.
function incrementalVerify(i) {
  const bad = (i.row_differences || 0) > 0;
  return el('div', { class: 'verify-incremental', id: 'verify-incremental' },
    el('h3', {}, 'Changed rows'),
    el('dl', { class: 'facts' },
      fact('Checked', fmtNumber(i.rows_checked)),
      fact('Different', fmtNumber(i.row_differences), bad ? 'bad-text' : ''),
      fact('Not checked', fmtNumber(i.skipped), i.skipped ? 'bad-text' : ''),
      fact('Re-checks', fmtNumber(i.rechecks))),
    bad ? el('p', { class: 'alert error' }, fmtNumber(i.row_differences) + (i.row_differences === 1 ? ' changed row differs' : ' changed rows differ') +
      ' at the destination after being applied.') : null,
    bad && i.detail ? el('pre', { class: 'verify-incremental-detail' }, i.detail) : null);
}

function differingTable(t) {
  const rows = t.rows || [];
  const more = (t.row_differences || 0) - rows.length;
  return el('div', { class: 'diff-table' },
    el('h3', {}, el('code', {}, t.source_table), ' → ', el('code', {}, t.target_table),
      el('span', { class: 'muted small' }, ' · ' + fmtNumber(t.row_differences) + ' row difference' + (t.row_differences === 1 ? '' : 's') +
        (t.keyless ? ' · no key: compared as a multiset of row hashes' : ''))),
    t.data_skipped_reason ? el('p', { class: 'bad-text' }, 'Data not compared: ' + t.data_skipped_reason) : null,
    (t.schema || []).length ? el('ul', { class: 'schema-diffs' }, t.schema.map((s) => el('li', {},
      el('strong', {}, 'Schema: '), s.object + ': ' + s.what,
      s.source || s.destination ? el('span', { class: 'muted' }, ' (source ' + (s.source || '—') + ', destination ' + (s.destination || '—') + ')') : null))) : null,
    rows.length ? el('table', { class: 'grid diffs' },
      el('thead', {}, el('tr', {}, ['Difference', 'Key', 'Columns that differ'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map((r) => el('tr', { class: 'diff diff-' + r.kind },
        el('td', { 'data-label': 'Difference' }, el('span', { class: 'badge d-' + r.kind }, r.kind), r.count > 1 ? ' ×' + r.count : ''),
        el('td', { 'data-label': 'Key', class: 'diff-key' }, keyText(r.key)),
        el('td', { 'data-label': 'Columns', class: 'diff-cols' },
          r.kind === 'changed' ? el('div', {}, (r.columns || []).map((c) => el('div', {}, el('strong', {}, c.column), ': ', shownValue(c.source), ' at the source, ', shownValue(c.destination), ' at the destination')))
            : el('span', { class: 'muted' }, r.kind === 'missing' ? 'only at the source' : 'only at the destination')))))) : null,
    more > 0 ? el('p', { class: 'muted small' }, fmtNumber(more) + ' more not listed here (dts verify lists them all).') : null);
}

// A transaction too large to hold in memory is applied (or logged) in pieces, and nothing of it
// counts in Rows/s or Changes applied before its last row commits: without this note the page
// reads as stuck for as long as it takes. `first` is when this page first saw it ({rows, t}),
// for its rate; `now` (ms) is the time the rate is taken at.
export function openTransactionNotice(t, first, now = Date.now()) {
  const o = t.applier && t.applier.open_transaction;
  if (!o) return null;
  const secs = first ? (now - first.t) / 1000 : 0;
  const rate = secs >= 1 && o.rows > first.rows ? (o.rows - first.rows) / secs : null;
  const tracking = t.kind === 'tracking';
  return el('div', { class: 'alert info', role: 'status', id: 'open-transaction' },
    el('strong', {}, tracking ? 'Logging one large transaction' : 'Applying one large transaction'),
    ' ', el('code', { class: 'gtid' }, o.gtid), ': ',
    el('span', { class: 'open-rows' }, fmtNumber(o.rows) + ' rows so far'),
    rate === null ? '' : ' (about ' + fmtNumber(rate, 0) + ' rows/s)', '. ',
    tracking ? 'Consumers read none of it until its last row is logged; '
      : 'None of it is visible at the destination until its last row commits; ',
    (tracking ? 'Rows/s and Changes logged' : 'Rows/s and Changes applied') + ' count committed rows only.');
}

// A tracking task's change log and its consumer groups with their lag (records behind the log's
// end). tr: the status's "tracking": {log_start_offset, log_end_offset, groups: [{name,
// committed_offset, lag, updated_at}]}.
export function trackingPanel(tr) {
  if (!tr) return null;
  const groups = (tr.groups || []).slice().sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const size = Math.max(0, (tr.log_end_offset || 0) - (tr.log_start_offset || 0));
  return el('section', { class: 'card tracking', id: 'tracking', 'aria-labelledby': 'tracking-h' },
    el('h2', { id: 'tracking-h' }, 'Consumer groups'),
    el('dl', { class: 'facts' },
      fact('Log start offset', fmtNumber(tr.log_start_offset)),
      fact('Log end offset', fmtNumber(tr.log_end_offset)),
      fact('Records kept', fmtNumber(size)),
      fact('Groups', fmtNumber(groups.length))),
    groups.length
      ? el('table', { class: 'grid groups' },
          el('caption', { class: 'sr-only' }, 'Consumer groups of this task and how far behind the log\'s end each is'),
          el('thead', {}, el('tr', {}, [['Group', ''], ['Committed offset', 'num'], ['Lag (records)', 'num'], ['Behind', ''], ['Updated', '']]
            .map(([h, c]) => el('th', { scope: 'col', class: c }, h)))),
          el('tbody', {}, groups.map((g) => {
            const pct = size ? Math.min(100, Math.round((g.lag / size) * 100)) : 0;
            return el('tr', { class: 'group-row', 'data-group': g.name },
              el('td', { 'data-label': 'Group' }, el('strong', {}, g.name)),
              el('td', { 'data-label': 'Committed offset', class: 'num' }, fmtNumber(g.committed_offset)),
              el('td', { 'data-label': 'Lag (records)', class: 'num group-lag' + (g.lag > 0 ? '' : ' ok-text') }, g.lag > 0 ? fmtNumber(g.lag) : '0 (caught up)'),
              el('td', { 'data-label': 'Behind' },
                el('div', { class: 'bar wide lag-bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'aria-label': 'Lag of ' + g.name + ' as a share of the records kept' },
                  fill(pct))),
              el('td', { 'data-label': 'Updated' }, g.updated_at ? el('time', { datetime: g.updated_at }, fmtTime(g.updated_at)) : '—'));
          })))
      : el('p', { class: 'empty-inline', id: 'no-groups' }, 'No consumer groups yet. A Kafka consumer group, or an HTTP reader with ', el('code', {}, '?group='), ', shows here once it commits an offset.'));
}

// A bar's filled part, its width set through the CSSOM (the Content-Security-Policy allows no
// inline style attribute), so the panel draws right wherever it is put.
function fill(pct) {
  const f = el('span', { class: 'fill', 'data-pct': pct });
  f.style.width = pct + '%';
  return f;
}

function fact(label, value, cls) {
  return el('div', { class: 'fact' }, el('dt', {}, label), el('dd', { class: cls || null }, value));
}

// The task's last errors (the status's error_history: at most 10, oldest first; shown newest
// first), each with when it was first seen and whether and when the task recovered from it. Only
// the newest can be unrecovered: a task's outage is one entry whose message is its latest error.
// The messages come from the API with passwords already redacted.
export function errorHistoryPanel(history) {
  if (!history || !history.length) return null;
  const after = (e) => {
    const ms = e.recovered_at_ms - e.at_ms;
    return ms < 1000 ? 'within a second' : 'after ' + fmtDuration(ms);
  };
  return el('section', { class: 'card', id: 'error-history', 'aria-labelledby': 'error-history-h' },
    el('h2', { id: 'error-history-h' }, 'Error history'),
    el('p', { class: 'help' }, (history.length === 1 ? 'The task\'s last error, at the time it was first seen'
      : 'The task\'s last ' + history.length + ' errors, newest first, each at the time it was first seen') + ' (at most 10 are kept).'),
    el('ol', { class: 'past-errors', reversed: true }, history.slice().reverse().map((e) => {
      const recovered = !!e.recovered_at;
      return el('li', { class: 'past-error ' + (recovered ? 'is-recovered' : 'is-open') },
        el('time', { datetime: e.at, title: e.at }, fmtDateTime(e.at)),
        el('span', { class: 'badge ' + (recovered ? 'pe-recovered' : 'pe-open') }, recovered ? 'recovered' : 'not recovered'),
        el('span', { class: 'msg' }, e.message),
        recovered ? el('div', { class: 'recovery' }, 'Recovered at ',
          el('time', { datetime: e.recovered_at, title: e.recovered_at }, fmtDateTime(e.recovered_at)), ' (' + after(e) + ')') : null);
    })));
}

function eventsList(events) {
  if (!events.length) return el('p', { class: 'empty-inline' }, 'No events yet.');
  return el('ol', { class: 'events', reversed: true }, events.slice().reverse().map((e) => el('li', { class: 'event ev-' + e.type },
    el('time', { datetime: e.at }, fmtTime(e.at)), el('span', { class: 'badge e-' + e.type }, e.type),
    el('span', { class: 'msg' }, e.message), e.hint ? el('div', { class: 'hint' }, 'Hint: ', e.hint) : null)));
}

export function taskPage(root, name) {
  const head = el('div', { class: 'page-head' }, el('h1', {}, name));
  const status = el('div', { 'aria-live': 'polite' });
  const body = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const lagNow = el('span', { class: 'now' });
  const rpsNow = el('span', { class: 'now' });
  const lagBox = el('div', { class: 'chart', id: 'chart-lag' });
  const rpsBox = el('div', { class: 'chart', id: 'chart-rps' });
  const charts = el('section', { class: 'card', 'aria-labelledby': 'charts-h' },
    el('h2', { id: 'charts-h' }, 'Live'),
    el('div', { class: 'charts' },
      el('figure', {}, el('figcaption', {}, 'Replication lag', lagNow), lagBox),
      el('figure', {}, el('figcaption', {}, 'Rows per second', rpsNow), rpsBox)),
    el('p', { class: 'help' }, 'Sampled every 2 s while this page is open; the last hour is kept.'));
  root.append(el('p', { class: 'crumbs' }, el('a', { href: '#/tasks' }, '← Tasks')), head, status, body);
  let last = null;
  let openFirst = null;  // {gtid, rows, t}: the open transaction when this page first saw it
  const redrawCharts = () => {
    const samples = samplesOf(name);
    const latest = samples.length ? samples[samples.length - 1] : null;
    lagNow.textContent = latest && latest.lag !== null ? 'now ' + fmtLag(latest.lag) : '';
    rpsNow.textContent = latest && latest.rps !== null ? 'now ' + fmtNumber(latest.rps, 0) : '';
    drawChart(lagBox, samples.map((s) => ({ t: s.t, v: s.lag })), { label: 'Replication lag', format: fmtLag, unit: lagUnit, color: '#7c3aed' });
    drawChart(rpsBox, samples.map((s) => ({ t: s.t, v: s.rps })), { label: 'Rows per second', format: (v) => fmtNumber(v, v < 10 ? 1 : 0), color: '#0f766e' });
  };
  const load = async () => {
    let t, ev;
    try {
      [t, ev] = await Promise.all([api('GET', '/api/v1/tasks/' + enc(name)), api('GET', '/api/v1/tasks/' + enc(name) + '/events?limit=15')]);
      clear(status);
    } catch (e) {
      if (e.status === 404) { put(body, el('div', { class: 'empty' }, el('h2', {}, 'No task named ' + name), el('p', {}, 'It may have been deleted.'), el('a', { class: 'button primary', href: '#/tasks' }, 'Back to the tasks'))); return; }
      put(status, errorBox(e)); return;
    }
    last = t;
    const open = t.applier && t.applier.open_transaction;
    if (!open) openFirst = null;
    else if (!openFirst || openFirst.gtid !== open.gtid) openFirst = { gtid: open.gtid, rows: open.rows, t: Date.now() };
    pushSample(name, { t: Date.now(), lag: t.running ? t.replication_lag_seconds : null, rps: t.running ? t.rps : null }, 3600e3);
    put(head, el('h1', {}, name, ' ', stateBadge(t)),
      el('div', { class: 'actions' }, actionButtons(t, (a) => { if (a === 'delete') location.hash = '#/tasks'; else load(); }, status)));
    const src = t.config && t.config.source ? (t.config.source.instance ? 'instance ' + t.config.source.instance + (t.config.source.secondary_node ? ', node ' + t.config.source.secondary_node : '') : t.config.source.endpoint) : '?';
    const dst = t.config && t.config.destination ? t.config.destination.endpoint
      : t.kind === 'tracking' ? 'its change log' : '?';
    const verifySettings = t.config && t.config.options ? t.config.options.verify : null;
    const incremental = !(t.kind === 'migration' && t.config && t.config.options && t.config.options.incremental === false);
    // Charts only say something while the task runs, or once they have samples.
    // (a migration that completed within one poll leaves one sample: nothing to draw).
    const sampled = samplesOf(name).filter((s) => s.lag !== null || s.rps !== null).length >= 2;
    const retry = t.retrying ? el('div', { class: 'alert warn', role: 'alert', id: 'retrying' },
      el('strong', {}, 'Retrying: '), t.retrying.message,
      t.retrying.deadline_ms ? el('div', {}, 'Gives up at ', el('time', { datetime: t.retrying.deadline }, new Date(t.retrying.deadline_ms).toLocaleString('en-GB')),
                                  ' (in ' + fmtDuration(t.retrying.deadline_ms - Date.now()) + ') unless the connection comes back.') : null,
      t.hint ? el('div', { class: 'hint' }, 'Hint: ', t.hint) : null) : null;
    const err = t.last_error && !t.retrying ? el('div', { class: 'alert error', role: 'alert' }, el('strong', {}, 'Last error: '), t.last_error,
      t.hint ? el('div', { class: 'hint' }, 'Hint: ', t.hint) : null) : null;
    // The page is rebuilt on every poll: an open report stays open.
    const reportOpen = !!body.querySelector('#verify details.report[open]');
    put(body,
      el('p', { class: 'meta' }, t.kind, ' · from ', el('code', {}, src), ' to ', el('code', {}, dst),
         t.updated_at ? ' · updated ' + fmtTime(t.updated_at) : ''),
      retry, err,
      sourceReplicationNotice(t),
      pipeline(t),
      openTransactionNotice(t, openFirst),
      el('div', { class: 'stats' },
        // Stopped: the notice above says why; the card keeps to one word.
        stat('Lag', t.source_replication && t.source_replication.state === 'stopped' ? 'unknown' : lagText(t), 'stat-lag'),
        stat('Rows/s', t.running ? fmtNumber(t.rps, 0) : '—', 'stat-rps'),
        stat('MB/s', t.running ? fmtNumber(t.mbps, 2) : '—'),
        t.kind === 'tracking' ? null : stat('Rows loaded', fmtNumber(t.rows_done)),
        stat(t.kind === 'tracking' ? 'Changes logged' : 'Changes applied', fmtNumber(t.changes_applied)),
        stat('Queued transactions', fmtNumber(t.applier && t.applier.queued_transactions))),
      incremental || t.checkpoint_gtid ? el('p', { class: 'meta small' }, 'Checkpoint GTID ', el('code', {}, t.checkpoint_gtid || '—')) : null,
      trackingPanel(t.tracking),
      t.running || sampled ? charts
        : el('section', { class: 'card', 'aria-labelledby': 'charts-h' }, el('h2', { id: 'charts-h' }, 'Live'),
            el('p', { class: 'empty-inline' }, 'The lag and rows/s charts draw while the task runs (it is ' + t.state + ').')),
      el('section', { class: 'card', 'aria-labelledby': 'tables-h' }, el('h2', { id: 'tables-h' }, 'Tables'), tablesTable(t)),
      verifyPanel(t.verify, verifySettings),
      errorHistoryPanel(t.error_history),
      el('section', { class: 'card', 'aria-labelledby': 'events-h' }, el('h2', { id: 'events-h' }, 'Recent events'), eventsList(ev.events)));
    if (reportOpen) body.querySelector('#verify details.report')?.setAttribute('open', '');
    setBars(body);
    redrawCharts();
  };
  const onResize = () => { if (last) redrawCharts(); };
  window.addEventListener('resize', onResize);
  const stop = poll(load, POLL_MS);
  return () => { stop(); window.removeEventListener('resize', onResize); };
}

function stat(label, value, id) {
  return el('div', { class: 'stat', id }, el('div', { class: 'stat-label' }, label), el('div', { class: 'stat-value' }, value));
}
