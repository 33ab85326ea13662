/* global clearInterval, performance */
// Local inbox. The list is a page of call summaries at a time; a call's
// transcript, data and audio load when it is opened. Server-Sent Events say
// which call changed (that summary is fetched) or carry a refused delivery
// (its row is added): the list is never reloaded for an event.
// Payloads are hostile: every value reaches the DOM through textContent or a
// checked attribute, never parsed as HTML; the server has already made
// controls and bidi overrides visible, and user text is isolated (dir=auto,
// <bdi>) so it cannot reorder what surrounds it.

const $ = (id) => document.getElementById(id);
const cards = new Map(); // call key -> { li, sig, open, turnsShown }
let pagesLoaded = 0;
let firstLoad = true;
let windowInfo = null;
let recentMinutes = 15;
const rejections = [];
const MAX_REJECTIONS = 200;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'dir' || k === 'title') node.setAttribute(k, String(v));
    else node[k] = v;
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

/** User text inline: isolated, so a right-to-left or overriding value cannot reorder its neighbours. */
const user = (text, cls) => el('bdi', { class: cls, text });

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

const reveal = () => $('reveal').checked;
const keyOf = (source, callId) => source + '\u0000' + callId;

async function getJson(path, params) {
  const q = new URLSearchParams(params);
  if (reveal()) q.set('reveal', '1');
  const res = await fetch(`${path}?${q}`, { cache: 'no-store' });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

// ------------------------------------------------------------------ a call

function head(c) {
  const counts = [];
  if (c.items > 1) counts.push(`${c.items} ${c.segments ? 'segments' : 'items'}`);
  if (c.recordings) counts.push(`${c.recordings} recording${c.recordings > 1 ? 's' : ''}`);
  if (c.copies && c.copies.failed) counts.push(`${c.copies.failed} copy failed`);
  else if (c.copies && (c.copies.pending || c.copies.retrying)) counts.push(`${c.copies.pending + c.copies.retrying} not copied yet`);
  if (c.turns) counts.push(`${c.turns} turns`);
  return [
    el('div', { class: 'call-head' },
      el('span', { class: 'source', 'data-source': c.source, text: c.source }),
      el('span', { class: 'status', 'data-status': c.status || 'unknown', text: c.status || 'unknown' }),
      c.statusDetail && c.statusDetail !== c.status ? el('span', { class: 'meta' }, user(c.statusDetail)) : null,
      el('span', { class: 'time', text: time(c.startedAt || c.receivedAt) }),
      c.customerNumber ? el('span', { class: 'customer' }, 'customer ', user(c.customerNumber)) : null,
      c.dialedNumber ? el('span', { class: 'meta' }, 'dialed ', user(c.dialedNumber)) : null,
      c.direction ? el('span', { class: 'meta', text: c.direction }) : null,
      c.agent ? el('span', { class: 'meta' }, 'agent ', user(c.agent)) : null,
      c.durationSec !== undefined ? el('span', { class: 'meta', text: duration(c.durationSec) }) : null,
      counts.length ? el('span', { class: 'meta counts', text: counts.join(' · ') }) : null,
    ),
    el('div', { class: 'callid' }, user(c.shownId), document.createTextNode(` · received ${time(c.receivedAt)}`)),
    c.summary ? el('p', { class: 'summary', dir: 'auto', text: c.summary }) : null,
  ].filter(Boolean);
}

/** A vendor-held recording's copy: archived (when), pending, retrying or failed (why). */
function archiveText(a) {
  if (a.state === 'archived') return `archived ${time(a.archivedAt)} from the vendor`;
  if (a.state === 'pending') return 'not copied yet (pending)';
  const attempts = typeof a.attempts === 'number' ? ` (attempt ${a.attempts})` : '';
  return a.state === 'failed' ? `copy failed: ${a.reason}${attempts}` : `copy retrying: ${a.reason}${attempts}`;
}

function recordingRow(rec, index) {
  const li = el('li', { class: 'recording' });
  li.append(el('span', { class: 'meta' }, `#${index + 1} `, user(rec.id)));
  if (rec.archive) li.dataset.archive = rec.archive.state;
  if (rec.s3Key) {
    const audio = el('audio', { controls: true, preload: 'metadata' });
    audio.src = '/inbox/audio?key=' + encodeURIComponent(rec.s3Key);
    li.append(audio);
    if (typeof rec.bytes === 'number') li.append(el('span', { class: 'meta' }, user(rec.contentType), ` · ${rec.bytes} bytes`));
    if (rec.archive) li.append(el('span', { class: 'meta archive', text: archiveText(rec.archive) }));
  } else if (rec.link) {
    // Shown by its host; the whole URL (escaped by the server) on hover.
    li.append(el('span', { class: 'meta', text: 'vendor link (not stored here):' }));
    li.append(el('a', { href: rec.link.href, title: rec.link.shown, target: '_blank', rel: 'noopener noreferrer', class: 'link-host' }, user(rec.link.host)));
    if (rec.archive) li.append(el('span', { class: 'meta archive' }, user(archiveText(rec.archive))));
  } else if (rec.archive) {
    li.append(el('span', { class: 'meta archive' }, user(archiveText(rec.archive)), " · through the vendor's API"));
  } else if (rec.sourceText) {
    li.append(el('span', { class: 'meta', text: 'vendor reference (not a link):' }), user(rec.sourceText));
  } else {
    li.append(el('span', { class: 'meta', text: 'no audio stored' }));
  }
  return li;
}

function keyValues(title, block) {
  if (!block || !block.total) return null;
  const dl = el('dl', { class: 'kv' });
  for (const [k, v] of block.shown) dl.append(el('dt', { dir: 'auto', text: k }), el('dd', { dir: 'auto', text: v }));
  const label = block.shown.length < block.total ? `${title} (${block.shown.length} of ${block.total})` : `${title} (${block.total})`;
  return el('details', { open: true, class: title.toLowerCase() }, el('summary', { text: label }), dl);
}

function turnItems(turns) {
  return turns.map((t) => el('li', { 'data-speaker': t.speaker }, el('span', { class: 'speaker', text: t.speaker }), el('span', { class: 'text', dir: 'auto', text: t.text })));
}

function renderDetail(card, d) {
  const box = card.li.querySelector('.detail');
  const parts = [];
  if (d.fullSummary && d.fullSummary !== d.summary.summary) parts.push(el('p', { class: 'summary full', dir: 'auto', text: d.fullSummary }));
  if (d.transcript.total) {
    const ol = el('ol', { class: 'transcript' }, ...turnItems(d.transcript.turns));
    parts.push(ol);
    card.turnsShown = d.transcript.turns.length;
    if (card.turnsShown < d.transcript.total) {
      const more = el('button', { type: 'button', class: 'more-turns', text: `Show more turns (${card.turnsShown} of ${d.transcript.total})` });
      more.addEventListener('click', async () => {
        more.disabled = true;
        const next = await getJson('/inbox/api/call', { source: card.source, callId: card.callId, turns: String(card.turnsShown) });
        if (!next) return;
        ol.append(...turnItems(next.transcript.turns));
        card.turnsShown += next.transcript.turns.length;
        if (card.turnsShown >= next.transcript.total) more.remove();
        else { more.textContent = `Show more turns (${card.turnsShown} of ${next.transcript.total})`; more.disabled = false; }
      });
      parts.push(more);
    }
  }
  for (const block of [keyValues('Extracted', d.extracted), keyValues('Labels', d.labels)]) if (block) parts.push(block);
  if (d.recordings.length) parts.push(el('ul', { class: 'recordings' }, ...d.recordings.map(recordingRow)));
  box.replaceChildren(...parts);
  box.hidden = false;
}

async function openCard(card) {
  const d = await getJson('/inbox/api/call', { source: card.source, callId: card.callId });
  if (!d || !card.open) return;
  renderDetail(card, d);
  card.li.dataset.open = 'true';
}

function closeCard(card) {
  card.open = false;
  const box = card.li.querySelector('.detail');
  box.replaceChildren();
  box.hidden = true;
  delete card.li.dataset.open;
}

function newCard(c) {
  const li = el('li', { class: 'call', 'data-source': c.source, 'data-call-id': c.callId });
  const top = el('div', { class: 'top' });
  const toggle = el('button', { type: 'button', class: 'open', 'aria-expanded': 'false', text: 'Open' });
  const card = { li, top, toggle, source: c.source, callId: c.callId, sig: '', open: false, turnsShown: 0 };
  toggle.addEventListener('click', () => {
    if (card.open) { closeCard(card); toggle.textContent = 'Open'; toggle.setAttribute('aria-expanded', 'false'); return; }
    card.open = true;
    toggle.textContent = 'Close';
    toggle.setAttribute('aria-expanded', 'true');
    openCard(card);
  });
  li.append(top, toggle, el('div', { class: 'detail', hidden: true }));
  return card;
}

/** Creates or updates the card of a summary; an open card reloads its detail when the call changed. */
function upsert(c) {
  const key = keyOf(c.source, c.callId);
  let card = cards.get(key);
  const sig = JSON.stringify(c);
  if (!card) {
    card = newCard(c);
    cards.set(key, card);
    if (!firstLoad) card.li.classList.add('fresh');
  }
  if (card.sig !== sig) {
    card.top.replaceChildren(...head(c));
    card.sig = sig;
    if (card.open) openCard(card);
  }
  return card;
}

function updateCount(more) {
  $('calls-empty').hidden = cards.size > 0;
  $('calls-count').textContent = cards.size ? `(${cards.size}${more ? '+' : ''})` : '';
  $('more').hidden = !more;
}

function showWindow() {
  if (!windowInfo) return;
  $('calls-window').textContent = `Calls that started in the last ${windowInfo.days} days, and every call received since this server started (${time(windowInfo.receivedSince)}), newest received first.`;
}

// ------------------------------------------------------------------ the list

let more = false;
async function loadPage(page) {
  const data = await getJson('/inbox/api/calls', { page: String(page) });
  if (!data) return;
  windowInfo = data.window;
  recentMinutes = data.recentMinutes;
  showWindow();
  const list = $('calls');
  const nodes = data.calls.map((c) => upsert(c).li);
  // Place this page's cards after the previous pages' (order as the server sorts).
  let anchor = page === 0 ? list.firstElementChild : list.children[page * data.pageSize] || null;
  for (const node of nodes) {
    if (node !== anchor) list.insertBefore(node, anchor);
    anchor = node.nextElementSibling;
  }
  if (page === 0) {
    rejections.length = 0;
    rejections.push(...data.rejected);
    renderRejected();
  }
  pagesLoaded = Math.max(pagesLoaded, page + 1);
  more = data.more;
  updateCount(more);
}

async function reloadAll() {
  const pages = Math.max(1, pagesLoaded);
  for (let p = 0; p < pages; p++) await loadPage(p);
}

async function refreshCall(source, callId) {
  const c = await getJson('/inbox/api/call', { source, callId, part: 'summary' });
  if (!c) return;
  const card = upsert(c);
  const list = $('calls');
  if (list.firstElementChild !== card.li) {
    card.li.classList.remove('fresh');
    void card.li.offsetWidth; // restart the highlight
    card.li.classList.add('fresh');
    list.insertBefore(card.li, list.firstElementChild);
  }
  updateCount(more);
}

// ------------------------------------------------------------------ rejections

function renderRejected() {
  const cutoff = Date.now() - recentMinutes * 60_000;
  while (rejections.length && Date.parse(rejections[rejections.length - 1].at) < cutoff) rejections.pop();
  const table = $('rejected');
  table.tBodies[0].replaceChildren(...rejections.map((r) => el('tr', { class: 'rejection' },
    el('td', { text: time(r.at) }),
    el('td', {}, user(`${r.method} ${r.path}`)),
    el('td', { class: 'status', text: String(r.status) }),
    el('td', { class: 'reason' }, el('code', {}, user(r.error || 'error')), r.message ? document.createTextNode(' — ') : null, r.message ? user(r.message) : null),
  )));
  table.hidden = rejections.length === 0;
  $('rejected-empty').hidden = rejections.length > 0;
  $('rejected-window').textContent = `(last ${recentMinutes} min)`;
}

// ------------------------------------------------------------------ live updates

const pending = new Map();
let flushTimer = null;
function callChanged(source, callId) {
  pending.set(keyOf(source, callId), { source, callId });
  if (flushTimer) return;
  // Coalesce bursts: each changed call is fetched once per 100 ms, whatever the number of events.
  flushTimer = setTimeout(async () => {
    flushTimer = null;
    const batch = [...pending.values()];
    pending.clear();
    for (const c of batch) await refreshCall(c.source, c.callId).catch(() => {});
  }, 100);
}

function failed() {
  $('live').textContent = 'cannot reach the local server';
  $('live').dataset.state = 'error';
}

let pollTimer = null;
function poll() {
  if (pollTimer) return;
  $('live').textContent = 'polling';
  $('live').dataset.state = 'polling';
  pollTimer = setInterval(() => loadPage(0).catch(failed), 3000);
}

function connect() {
  if (!('EventSource' in window)) return poll();
  const es = new EventSource('/inbox/api/events');
  let opened = false;
  es.addEventListener('open', () => {
    if (opened) loadPage(0).catch(failed); // events may have been missed while disconnected
    opened = true;
    $('live').textContent = 'live';
    $('live').dataset.state = 'live';
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  });
  es.addEventListener('delivery', (ev) => {
    const e = JSON.parse(ev.data);
    if (typeof e.source === 'string' && typeof e.callId === 'string') callChanged(e.source, e.callId);
  });
  es.addEventListener('rejected', (ev) => {
    rejections.unshift(JSON.parse(ev.data));
    if (rejections.length > MAX_REJECTIONS) rejections.length = MAX_REJECTIONS;
    renderRejected();
  });
  es.addEventListener('error', () => poll()); // EventSource retries by itself; poll meanwhile
}

$('more').addEventListener('click', () => loadPage(pagesLoaded).catch(failed));
$('reveal').addEventListener('change', () => reloadAll().catch(failed));

loadPage(0).then(() => {
  firstLoad = false;
  document.body.dataset.loaded = 'true';
  document.body.dataset.firstRenderMs = String(Math.round(performance.now()));
  connect();
}, failed);
