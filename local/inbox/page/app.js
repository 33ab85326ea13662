/* global URL, clearTimeout, clearInterval */
// Local inbox: renders /inbox/api/calls and refreshes on Server-Sent Events
// (falls back to short polling). Payloads are hostile: every value reaches the
// DOM through textContent or a checked attribute, never parsed as HTML.

const $ = (id) => document.getElementById(id);
const rendered = new Map(); // call key -> { sig, li }
let firstLoad = true;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, String(v));
    else node[k] = v;
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

function duration(sec) {
  if (typeof sec !== 'number' || !Number.isFinite(sec)) return '';
  const t = Math.round(sec);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  return (h ? `${h}:${String(m).padStart(2, '0')}` : String(m)) + ':' + String(s).padStart(2, '0');
}

function httpUrl(value) {
  try {
    const u = new URL(String(value));
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch { return undefined; }
}

function show(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function keyValues(title, map) {
  const entries = Object.entries(map || {});
  if (!entries.length) return null;
  const dl = el('dl', { class: 'kv' });
  for (const [k, v] of entries) dl.append(el('dt', { text: k }), el('dd', { text: show(v) }));
  return el('details', { open: true, class: title.toLowerCase() }, el('summary', { text: `${title} (${entries.length})` }), dl);
}

function recordingRow(rec, index) {
  const li = el('li', { class: 'recording' });
  li.append(el('span', { class: 'meta', text: `#${index + 1} ${rec.id}` }));
  if (rec.s3Key) {
    const audio = el('audio', { controls: true, preload: 'metadata' });
    audio.src = '/inbox/audio?key=' + encodeURIComponent(rec.s3Key);
    li.append(audio);
    if (typeof rec.bytes === 'number') li.append(el('span', { class: 'meta', text: `${rec.contentType} · ${rec.bytes} bytes` }));
  } else if (rec.sourceUrl) {
    const href = httpUrl(rec.sourceUrl);
    li.append(el('span', { class: 'meta', text: 'vendor link (not stored here):' }));
    li.append(href ? el('a', { href, text: rec.sourceUrl, target: '_blank', rel: 'noopener noreferrer' }) : el('span', { text: rec.sourceUrl }));
  } else {
    li.append(el('span', { class: 'meta', text: 'no audio stored' }));
  }
  return li;
}

function callItem(g) {
  const c = g.call;
  const li = el('li', { class: 'call', 'data-source': c.source, 'data-call-id': c.callId });
  const agent = c.agent ? [c.agent.name, c.agent.id && `#${c.agent.id}`].filter(Boolean).join(' ') : '';
  li.append(el('div', { class: 'call-head' },
    el('span', { class: 'source', 'data-source': c.source, text: c.source }),
    el('span', { class: 'status', 'data-status': c.status || 'unknown', text: c.status || 'unknown' }),
    c.statusDetail && c.statusDetail !== c.status ? el('span', { class: 'meta', text: c.statusDetail }) : null,
    el('span', { class: 'time', text: time(c.startedAt || c.receivedAt) }),
    c.customerNumber ? el('span', { class: 'customer', text: `customer ${c.customerNumber}` }) : null,
    c.dialedNumber ? el('span', { class: 'meta', text: `dialed ${c.dialedNumber}` }) : null,
    c.direction ? el('span', { class: 'meta', text: c.direction }) : null,
    agent ? el('span', { class: 'meta', text: `agent ${agent}` }) : null,
    c.durationSec !== undefined ? el('span', { class: 'meta', text: duration(c.durationSec) }) : null,
    g.items.length > 1 ? el('span', { class: 'meta', text: `${g.items.length} ${c.source === 'engage-voice' ? 'segments' : 'items'}` }) : null,
  ));
  li.append(el('div', { class: 'callid', text: `${c.callId} · received ${time(c.receivedAt)}` }));
  if (c.summary) li.append(el('p', { class: 'summary', text: c.summary }));
  if (c.transcript && c.transcript.length) {
    const ol = el('ol', { class: 'transcript' });
    for (const t of c.transcript) {
      ol.append(el('li', { 'data-speaker': t.speaker }, el('span', { class: 'speaker', text: t.speaker }), el('span', { class: 'text', text: t.text })));
    }
    li.append(ol);
  }
  for (const block of [keyValues('Extracted', c.extracted), keyValues('Labels', c.labels)]) if (block) li.append(block);
  if (c.recordings.length) {
    const ul = el('ul', { class: 'recordings' });
    c.recordings.forEach((r, i) => ul.append(recordingRow(r, i)));
    li.append(ul);
  }
  return li;
}

function renderCalls(calls) {
  const list = $('calls');
  const keep = new Set();
  const nodes = calls.map((g) => {
    const key = g.call.source + '\u0000' + g.call.callId;
    keep.add(key);
    const sig = JSON.stringify(g);
    const old = rendered.get(key);
    if (old && old.sig === sig) return old.li;
    const li = callItem(g);
    if (!firstLoad) li.classList.add('fresh');
    rendered.set(key, { sig, li });
    return li;
  });
  for (const key of [...rendered.keys()]) if (!keep.has(key)) rendered.delete(key);
  // Move nodes into order without recreating unchanged ones (players keep playing).
  nodes.forEach((node, i) => { if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null); });
  while (list.children.length > nodes.length) list.lastElementChild.remove();
  $('calls-empty').hidden = calls.length > 0;
  $('calls-count').textContent = calls.length ? `(${calls.length})` : '';
}

function renderRejected(rows, minutes) {
  const table = $('rejected');
  const body = table.tBodies[0];
  body.replaceChildren(...rows.map((r) => el('tr', { class: 'rejection' },
    el('td', { text: time(r.at) }),
    el('td', { text: `${r.method} ${r.path}` }),
    el('td', { class: 'status', text: String(r.status) }),
    el('td', { class: 'reason' }, el('code', { text: r.error || 'error' }), document.createTextNode(r.message ? ' — ' + r.message : '')),
  )));
  table.hidden = rows.length === 0;
  $('rejected-empty').hidden = rows.length > 0;
  $('rejected-window').textContent = `(last ${minutes} min)`;
}

let loading = null;
let again = false;
async function refresh() {
  if (loading) { again = true; return loading; }
  loading = (async () => {
    try {
      const res = await fetch('/inbox/api/calls', { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      renderCalls(Array.isArray(data.calls) ? data.calls : []);
      renderRejected(Array.isArray(data.rejected) ? data.rejected : [], data.recentMinutes);
      firstLoad = false;
      document.body.dataset.loaded = 'true';
    } catch {
      $('live').textContent = 'cannot reach the local server';
      $('live').dataset.state = 'error';
    } finally {
      loading = null;
      if (again) { again = false; refresh(); }
    }
  })();
  return loading;
}

let pollTimer = null;
function poll() {
  if (pollTimer) return;
  $('live').textContent = 'polling';
  $('live').dataset.state = 'polling';
  pollTimer = setInterval(refresh, 3000);
}

function connect() {
  if (!('EventSource' in window)) return poll();
  const es = new EventSource('/inbox/api/events');
  let debounce = null;
  const changed = () => { clearTimeout(debounce); debounce = setTimeout(refresh, 100); };
  es.addEventListener('open', () => {
    $('live').textContent = 'live';
    $('live').dataset.state = 'live';
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    refresh();
  });
  es.addEventListener('delivery', changed);
  es.addEventListener('rejected', changed);
  es.addEventListener('error', () => poll()); // EventSource retries by itself; poll meanwhile
}

refresh();
connect();
