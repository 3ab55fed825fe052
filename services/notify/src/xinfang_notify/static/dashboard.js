// The live dashboard: the caller's notifications as they happen (SSE, by the session cookie),
// one card per event listing everyone it went to, and a 签收 button on the alerts the caller
// signs for. No inline script or style: the page runs under a strict Content-Security-Policy.
'use strict';

const list = document.getElementById('list');
const status = document.getElementById('status');
const card = document.getElementById('card');
const org = document.body.dataset.org || '';
const alerts = new Map(); // alert_id → the alert as the server sees it for this caller
const byEvent = new Map(); // source_event_id → {li, recipients}
const waiting = new Map(); // alert_id → the cards whose 签收 area waits for the alert's state

function relogin() {
  location.href = '/login?expired=1&next=' + encodeURIComponent(location.pathname + location.search);
}

async function loadAlerts() {
  const asked = new Set(waiting.keys()); // cards added meanwhile wait for the next answer
  const r = await fetch('/api/v1/alerts?limit=1000');
  if (r.status === 401) { relogin(); return; }
  if (!r.ok) return;
  for (const a of await r.json()) alerts.set(a.alert_id, a);
  for (const [id, spots] of waiting) {
    if (!asked.has(id) && !alerts.has(id)) continue;
    waiting.delete(id);
    const a = alerts.get(id);
    spots.forEach((spot) => { if (a) showAck(spot, a); else spot.textContent = ''; });
  }
}

let loading = null;
let again = false;
function refreshAlerts() { // one request at a time, however many cards ask
  if (loading) { again = true; return loading; }
  loading = loadAlerts().finally(() => {
    loading = null;
    if (again) { again = false; refreshAlerts(); }
  });
  return loading;
}

function signed(spot, by) {
  spot.textContent = '已签收：' + by;
  spot.classList.add('done');
}

function showAck(spot, alert) {
  spot.replaceChildren();
  if (alert.acknowledged_at) { signed(spot, alert.acknowledged_by); return; }
  if (!alert.can_acknowledge) { spot.textContent = '待签收'; return; }
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = '签收';
  b.addEventListener('click', () => acknowledge(alert.alert_id, spot));
  spot.append(b);
}

async function acknowledge(alertId, spot) {
  const r = await fetch('/api/v1/alerts/' + encodeURIComponent(alertId) + '/ack', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}',
  });
  if (r.status === 401) { relogin(); return; }
  const j = await r.json();
  if (r.ok || r.status === 409) {
    const by = j.acknowledged_by;
    alerts.set(alertId, {...(alerts.get(alertId) || {}), acknowledged_at: j.acknowledged_at || true, acknowledged_by: by});
    document.querySelectorAll('.ack[data-alert="' + CSS.escape(alertId) + '"]').forEach((s) => signed(s, by));
    return;
  }
  spot.textContent = j.message || '签收失败';
}

function ackArea(li, alertId) {
  const spot = li.querySelector('.ack');
  spot.dataset.alert = alertId;
  const known = alerts.get(alertId);
  if (known) { showAck(spot, known); return; }
  spot.textContent = '…';
  if (!waiting.has(alertId)) waiting.set(alertId, []);
  waiting.get(alertId).push(spot);
  setTimeout(refreshAlerts, 50); // an alert raised after the page loaded
}

function show(n) {
  const name = n.recipient_name || n.recipient;
  const known = byEvent.get(n.source_event_id);
  if (known) {
    if (!known.recipients.includes(name)) known.recipients.push(name);
    known.li.querySelector('.r').textContent = known.recipients.join('、');
    return;
  }
  const li = card.content.firstElementChild.cloneNode(true);
  li.className = n.level;
  li.querySelector('.t').textContent = n.title;
  li.querySelector('.b').textContent = n.body;
  li.querySelector('.c').textContent = n.case_number;
  li.querySelector('.r').textContent = name;
  li.querySelector('.w').textContent = new Date(n.created_at).toLocaleString('zh-CN', {timeZone: 'Asia/Shanghai'});
  if (n.alert_id) ackArea(li, n.alert_id);
  byEvent.set(n.source_event_id, {li, recipients: [name]});
  list.prepend(li);
}

function connect() {
  const es = new EventSource('/api/v1/stream?since=0' + (org ? '&org=' + encodeURIComponent(org) : ''));
  es.addEventListener('open', () => { status.textContent = '已连接，实时接收中'; });
  es.addEventListener('error', async () => {
    if (es.readyState !== EventSource.CLOSED) { status.textContent = '连接中断，正在重连…'; return; }
    // the server refused the stream: most likely the login expired
    const r = await fetch('/api/v1/me');
    if (r.status === 401) relogin(); else status.textContent = '无法接收通知，请刷新页面';
  });
  es.addEventListener('notification', (e) => show(JSON.parse(e.data)));
}

// what is acknowledged already shows so after a reload (no 签收 button coming back)
refreshAlerts().finally(connect);
