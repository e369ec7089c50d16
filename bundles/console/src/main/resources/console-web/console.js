// meshhub console: polls the JSON API of the current view every 2 s. Every value is written with
// textContent (never as HTML); every POST carries the session's CSRF token.
'use strict';

const csrf = document.querySelector('meta[name="csrf"]').content;
const REFRESH_MS = 2000;
const PAGE = 100;
const state = { view: 'nodes', nodeOffset: 0, task: null, timer: null };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function when(iso) {
  if (!iso) return '';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 0) return 'in ' + (-seconds) + ' s';
  if (seconds < 120) return seconds + ' s ago';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min ago';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function problem(message) {
  const box = document.getElementById('problem');
  box.hidden = !message;
  box.textContent = message || '';
}

async function api(path, options) {
  const response = await fetch('/console/api/' + path, Object.assign({ credentials: 'same-origin' }, options || {}));
  if (response.redirected || response.status === 401) {
    window.location.assign('/login?next=/console');
    throw new Error('signed out');
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || ('HTTP ' + response.status));
  return body;
}

function post(path) {
  return api(path, { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
}

function fill(tableId, rows) {
  const body = document.querySelector('#' + tableId + ' tbody');
  body.replaceChildren(...rows);
}

async function showNodes() {
  const q = encodeURIComponent(document.getElementById('node-filter').value);
  const data = await api('nodes?limit=' + PAGE + '&offset=' + state.nodeOffset + '&q=' + q);
  const last = Math.min(data.offset + data.nodes.length, data.total);
  document.getElementById('node-count').textContent = data.connected + ' connected; showing ' +
      (data.total === 0 ? 0 : data.offset + 1) + '-' + last + ' of ' + data.total + ' enrolled';
  document.getElementById('nodes-prev').disabled = data.offset === 0;
  document.getElementById('nodes-next').disabled = last >= data.total;
  fill('nodes-table', data.nodes.map(node => {
    const row = el('tr');
    row.dataset.nodeName = node.name;
    const status = node.revoked ? 'revoked' : (node.connected ? 'connected' : 'offline');
    row.append(el('td', node.name), el('td', node.id), el('td', status, status), el('td', node.address || ''),
        el('td', when(node.lastHeartbeat)), el('td', node.mode || ''), el('td', node.confinement || ''));
    const actions = el('td');
    if (!node.revoked) {
      const mode = el('select', undefined, 'mode');
      for (const option of ['STRICT', 'PERMISSIVE']) {
        const item = el('option', option);
        item.selected = option === node.mode;
        mode.append(item);
      }
      const apply = el('button', 'Set mode', 'set-mode');
      apply.type = 'button';
      apply.addEventListener('click', () => setMode(node, mode.value));
      actions.append(mode, apply);
      const revoke = el('button', 'Revoke', 'danger revoke');
      revoke.type = 'button';
      revoke.addEventListener('click', () => revokeNode(node));
      actions.append(revoke);
    }
    row.append(actions);
    return row;
  }));
}

async function setMode(node, mode) {
  let confirm = '';
  if (mode === 'PERMISSIVE') {
    // As meshctl policy set ... permissive --yes: an explicit act, here typing the node's name.
    confirm = window.prompt('PERMISSIVE lets ' + node.name + ' run any program, unconfined, as its agent\'s user.' +
        ' Type the node\'s name to confirm.');
    if (confirm === null) return;
  } else if (!window.confirm('Set ' + node.name + ' to ' + mode + '?')) {
    return;
  }
  try {
    await post('nodes/' + encodeURIComponent(node.id) + '/policy?mode=' + mode + '&confirm=' + encodeURIComponent(confirm));
    refresh();
  } catch (e) {
    problem('Setting ' + node.name + ' to ' + mode + ' failed: ' + e.message);
  }
}

async function createInvite() {
  const note = window.prompt('A note for this invite (who or what it is for), or leave empty:', '');
  if (note === null) return;
  try {
    const invite = await post('invites?ttlMinutes=60&note=' + encodeURIComponent(note));
    document.getElementById('invite-token').textContent = invite.token;
    document.getElementById('invite-pin').textContent = invite.caPin || '(the PKI is not running)';
    document.getElementById('invite-expiry').textContent = 'Valid until ' + invite.expiresAt + ' (one hour), once.';
    document.getElementById('invite').hidden = false;
  } catch (e) {
    problem('Creating an invite failed: ' + e.message);
  }
}

async function revokeNode(node) {
  if (!window.confirm('Revoke ' + node.name + ' (' + node.id + ')? Its credential stops working and its session closes;' +
      ' it cannot return without a new invite.')) return;
  try {
    await post('nodes/' + encodeURIComponent(node.id) + '/revoke');
    refresh();
  } catch (e) {
    problem('Revoking ' + node.name + ' failed: ' + e.message);
  }
}

async function showTasks() {
  const node = encodeURIComponent(document.getElementById('task-node').value.trim());
  const taskState = document.getElementById('task-state').value;
  const data = await api('tasks?limit=' + PAGE + '&node=' + node + '&state=' + taskState);
  fill('tasks-table', data.tasks.map(task => {
    const row = el('tr', undefined, 'clickable');
    row.dataset.taskId = task.id;
    row.append(el('td', task.id), el('td', task.nodeName), el('td', task.summary), el('td', task.state, task.state),
        el('td', when(task.createdAt)), el('td', task.exitCode === null ? '' : task.exitCode));
    row.addEventListener('click', () => { state.task = task.id; showTask(); });
    return row;
  }));
  if (state.task) await showTask();
}

async function showTask() {
  const task = await api('tasks/' + encodeURIComponent(state.task));
  document.getElementById('task-detail').hidden = false;
  document.getElementById('task-title').textContent = task.id + ' on ' + task.nodeName + ': ' + task.summary;
  document.getElementById('task-meta').textContent = task.state + (task.exitCode === null ? '' : ', exit ' + task.exitCode) +
      ', created ' + when(task.createdAt) + (task.finishedAt ? ', finished ' + when(task.finishedAt) : '');
  document.getElementById('task-meta').className = task.state;
  document.getElementById('task-diagnostic').textContent = task.diagnostic || '';
  const output = document.getElementById('task-output');
  const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
  output.textContent = task.output;
  if (atBottom) output.scrollTop = output.scrollHeight;
  const cancel = document.getElementById('task-cancel');
  cancel.hidden = !['QUEUED', 'DISPATCHED', 'RUNNING'].includes(task.state);
  cancel.onclick = async () => {
    if (!window.confirm('Cancel task ' + task.id + ' on ' + task.nodeName + '?')) return;
    try { await post('tasks/' + encodeURIComponent(task.id) + '/cancel'); refresh(); } catch (e) { problem('Cancel failed: ' + e.message); }
  };
}

function size(bytes) {
  if (bytes < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return (unit === 0 ? value : value.toFixed(1)) + ' ' + units[unit];
}

async function showTransfers() {
  const data = await api('transfers');
  fill('transfers-table', data.transfers.map(transfer => {
    const row = el('tr');
    const progress = el('td');
    const bar = el('progress');
    if (transfer.totalSize > 0) {
      bar.max = transfer.totalSize;
      bar.value = transfer.bytes;
    }
    progress.append(bar, el('span', ' ' + size(transfer.bytes) + ' of ' + size(transfer.totalSize)));
    row.append(el('td', transfer.id), el('td', transfer.direction), el('td', transfer.nodeName || transfer.nodeId),
        el('td', transfer.path), progress, el('td', when(transfer.startedAt)));
    return row;
  }));
}

async function showLocks() {
  const data = await api('locks');
  fill('locks-table', data.locks.map(lock => {
    const row = el('tr');
    row.append(el('td', lock.key), el('td', lock.owner), el('td', when(lock.acquiredAt)), el('td', when(lock.expiresAt)));
    return row;
  }));
}

async function showManagement() {
  const data = await api('management');
  fill('management-table', data.tasks.map(task => {
    const row = el('tr');
    row.append(el('td', task.name), el('td', task.bundle), el('td', task.state), el('td', task.period || ''), el('td', task.runs),
        el('td', task.failures), el('td', task.timeouts), el('td', when(task.lastStart)),
        el('td', task.lastOutcome || '', task.lastOutcome === 'failed' ? 'FAILED' : ''), el('td', when(task.nextRun)));
    if (task.lastError) row.title = task.lastError;
    return row;
  }));
}

async function showAudit() {
  const data = await api('audit?limit=' + PAGE);
  fill('audit-table', data.entries.map(entry => {
    const row = el('tr');
    row.append(el('td', entry.at ? entry.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''), el('td', entry.actor), el('td', entry.action),
        el('td', entry.subject), el('td', entry.detail));
    return row;
  }));
}

const VIEWS = { nodes: showNodes, tasks: showTasks, transfers: showTransfers, locks: showLocks, management: showManagement, audit: showAudit };

async function refresh() {
  try {
    await VIEWS[state.view]();
    problem(null);
    document.getElementById('status').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.message !== 'signed out') problem(e.message);
  }
}

function select(view) {
  state.view = view;
  for (const button of document.querySelectorAll('nav button')) button.classList.toggle('active', button.dataset.view === view);
  for (const name of Object.keys(VIEWS)) document.getElementById('view-' + name).hidden = name !== view;
  refresh();
}

document.addEventListener('DOMContentLoaded', () => {
  for (const button of document.querySelectorAll('nav button')) button.addEventListener('click', () => select(button.dataset.view));
  document.getElementById('node-filter').addEventListener('input', () => { state.nodeOffset = 0; refresh(); });
  document.getElementById('nodes-prev').addEventListener('click', () => { state.nodeOffset = Math.max(0, state.nodeOffset - PAGE); refresh(); });
  document.getElementById('nodes-next').addEventListener('click', () => { state.nodeOffset += PAGE; refresh(); });
  document.getElementById('task-node').addEventListener('input', refresh);
  document.getElementById('task-state').addEventListener('change', refresh);
  document.getElementById('create-invite').addEventListener('click', createInvite);
  document.getElementById('invite-close').addEventListener('click', () => {
    document.getElementById('invite-token').textContent = '';
    document.getElementById('invite').hidden = true;
  });
  document.getElementById('sign-out').addEventListener('click', async () => {
    await fetch('/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' });
    window.location.assign('/login');
  });
  select('nodes');
  state.timer = window.setInterval(refresh, REFRESH_MS);
});
