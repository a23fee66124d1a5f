// The status page's script: polls /status.json and handles one tenant's dead letters with the key the
// operator types. Every text that comes from the server (dead-letter reasons, event payloads, device
// and replica names) is attacker-controlled: it goes into the page with textContent only, never as HTML.
'use strict';

const POLL_MS = 2000;
const PAGE_SIZE = 50;
let apiKey = null;
let lastOk = 0;
let timer = null;
let letterCursor = '0';

const byId = (id) => document.getElementById(id);
function setText(id, text) {
  const node = byId(id);
  if (node) node.textContent = text;
}
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
function num(n) {
  if (n === null || n === undefined) return '–';
  return Math.abs(n) >= 10000 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 10) / 10);
}
function age(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s * 10) / 10} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
/** Colours a card: ok, warn, bad or unknown (a source that could not be read). */
function mark(cardId, state) {
  const card = byId(cardId);
  if (card) card.dataset.state = state;
}
function failed(cardId, section, fields) {
  if (section.ok) return false;
  mark(cardId, 'unknown');
  for (const id of fields) setText(id, '?');
  const card = byId(cardId);
  let note = card.querySelector('.error');
  if (!note) note = card.appendChild(el('p', 'error'));
  note.textContent = `Could not read: ${section.error}`;
  return true;
}
function clearError(cardId) {
  byId(cardId).querySelector('.error')?.remove();
}

function renderIngest(s) {
  if (failed('card-ingest', s, ['ingest-eps10', 'ingest-eps60'])) return;
  clearError('card-ingest');
  setText('ingest-eps10', num(s.eventsPerSecond10s));
  setText('ingest-eps60', num(s.eventsPerSecond60s));
  setText('ingest-events60', num(s.events60s));
  setText('ingest-batches60', num(s.batches60s));
  setText('ingest-inserted60', num(s.inserted60s));
  mark('card-ingest', 'ok');
}

function renderBacklog(staging, queue, ingest) {
  if (failed('card-backlog', staging, ['backlog-events', 'fresh-oldest'])) return;
  clearError('card-backlog');
  setText('backlog-events', num(staging.events));
  setText('backlog-batches', num(staging.batches));
  setText('fresh-oldest', staging.oldestAgeMs === null ? 'none: everything accepted is visible' : `${age(staging.oldestAgeMs)} waiting`);
  setText('fresh-last-applied', ingest.ok ? (ingest.lastAppliedAgeMs === null ? 'never' : `${age(ingest.lastAppliedAgeMs)} ago`) : '?');
  setText('queue-depth', queue.ok ? `${num(queue.waiting + queue.prioritized)} / ${num(queue.active)} / ${num(queue.delayed)}` : `? (${queue.error})`);
  const oldest = staging.oldestAgeMs ?? 0;
  mark('card-backlog', oldest > 60000 ? 'bad' : oldest > 5000 ? 'warn' : 'ok');
}

function renderDead(dead, queue) {
  if (failed('card-dead', dead, ['dead-events', 'dead-tenants'])) return;
  clearError('card-dead');
  setText('dead-events', num(dead.events));
  setText('dead-tenants', num(dead.tenants));
  setText('dead-jobs', queue.ok ? num(queue.failed) : '?');
  mark('card-dead', dead.events > 0 || (queue.ok && queue.failed > 0) ? 'bad' : 'ok');
}

function renderPartitions(p) {
  if (failed('card-partitions', p, ['part-ahead'])) return;
  clearError('card-partitions');
  setText('part-ahead', num(p.daysAhead));
  setText('part-missing', p.missingAhead.length === 0 ? 'none' : p.missingAhead.join(', '));
  setText('part-behind', `${p.oldestDay ?? '–'} / ${p.retentionDays} days`);
  setText('part-expired', p.pastRetention.length === 0 ? 'none' : `${p.pastRetention.length} (${p.pastRetention.slice(0, 3).join(', ')}${p.pastRetention.length > 3 ? ', …' : ''})`);
  setText('part-default', p.defaultRowsEstimate === null ? 'not analyzed yet' : `≈ ${num(p.defaultRowsEstimate)}`);
  mark('card-partitions', p.missingAhead.length > 0 ? 'bad' : p.pastRetention.length > 0 ? 'warn' : 'ok');
}

function renderAggregation(a) {
  if (failed('card-aggregation', a, ['agg-notes'])) return;
  clearError('card-aggregation');
  setText('agg-notes', num(a.notes));
  setText('agg-tenants', num(a.tenants));
  setText('agg-oldest', a.oldestMinute === null ? 'none: caught up' : `${a.oldestMinute} (${age(a.oldestAgeMs)} old, event time)`);
  mark('card-aggregation', a.notes > 10000 ? 'warn' : 'ok');
}

function breakerText(state) {
  return state === 'closed' ? 'closed' : state === 'open' ? 'OPEN' : state === 'half-open' ? 'half-open' : String(state);
}

function renderRouting(r, heartbeat) {
  setText('heartbeat-age', heartbeat.ok ? age(heartbeat.ageMs) : `? (${heartbeat.error})`);
  const list = byId('replicas');
  list.replaceChildren();
  if (!r.reachable) {
    setText('cache-breaker', 'unknown');
    setText('max-staleness', 'unknown');
    setText('routing-note', `${r.error} at ${r.url}: replica routing and breaker states are unknown from here (${r.configuredReplicas} replicas configured).`);
    mark('card-routing', 'unknown');
    return;
  }
  setText('cache-breaker', `${breakerText(r.cache.breaker)}${r.cache.connected ? '' : ' (cache not connected)'}`);
  setText('max-staleness', age(r.maxStalenessMs));
  for (const replica of r.replicas) {
    const item = el('li', replica.healthy ? 'replica ok' : 'replica bad');
    item.append(el('strong', '', replica.name), el('span', '', `lag ${age(replica.lagMs)}`), el('span', '', `breaker ${breakerText(replica.breaker)}`));
    if (replica.error) item.append(el('span', 'note', replica.error));
    list.append(item);
  }
  setText('routing-note', r.replicas.length === 0 ? 'No replicas configured: every read goes to the primary.' : `As query-api sees them (${r.url}).`);
  const down = r.replicas.some((replica) => !replica.healthy) || r.cache.breaker !== 'closed';
  mark('card-routing', down ? 'bad' : 'ok');
}

function render(status) {
  renderIngest(status.ingest);
  renderBacklog(status.staging, status.queue, status.ingest);
  renderDead(status.deadLetters, status.queue);
  renderPartitions(status.partitions);
  renderAggregation(status.aggregation);
  renderRouting(status.routing, status.heartbeat);
  setText('checked-at', `checked ${status.checkedAt}`);
}

function showLive() {
  const live = byId('live');
  const since = Date.now() - lastOk;
  const stale = lastOk === 0 || since > POLL_MS * 3;
  live.className = `live ${lastOk === 0 ? 'unknown' : stale ? 'stale' : 'ok'}`;
  if (lastOk !== 0) setText('live-text', stale ? `stale: last update ${age(since)} ago` : 'live');
}

async function poll() {
  clearTimeout(timer);
  try {
    const response = await fetch('/status.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`status ${response.status}`);
    render(await response.json());
    lastOk = Date.now();
  } catch (error) {
    setText('live-text', `cannot reach ops: ${error.message}`);
  }
  showLive();
  if (!document.hidden) timer = setTimeout(poll, POLL_MS);
}

// ---- dead letters of one tenant (behind a key) ----

async function call(method, path, body) {
  const headers = { authorization: `Bearer ${apiKey}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = payload && payload.error && typeof payload.error.message === 'string' ? payload.error.message : `HTTP ${response.status}`;
    throw new Error(response.status === 401 ? `key not accepted: ${message}` : message);
  }
  return payload;
}

function say(text, kind) {
  const message = byId('dl-message');
  message.textContent = text;
  message.className = `message ${kind || ''}`;
}

function letterItem(letter) {
  const item = el('li', 'letter');
  item.dataset.id = letter.id;
  const head = el('div', 'letter-head');
  head.append(el('strong', '', `#${letter.id}`), el('span', 'device', letter.device), el('span', 'muted', letter.ts ?? 'no valid time'));
  const reason = el('p', 'reason', `${letter.sqlstate}: ${letter.reason}`);
  const meta = el('p', 'note', `failed ${letter.failures}× · first ${letter.failedAt} · last ${letter.lastFailedAt}`);
  const event = el('pre', 'event', letter.event + (letter.eventTruncated ? ' …' : ''));
  const actions = el('div', 'row actions');
  const retry = el('button', 'retry', 'Retry');
  retry.type = 'button';
  retry.addEventListener('click', () => act('retry', letter.id, retry));
  const drop = el('button', 'secondary drop', 'Drop');
  drop.type = 'button';
  drop.addEventListener('click', () => confirmDrop(letter.id, drop));
  actions.append(retry, drop);
  item.append(head, reason, meta, event, actions);
  return item;
}

/** Dropping is for good: the first press arms the button, a second one within 5 s drops. */
function confirmDrop(id, button) {
  if (button.dataset.armed === '1') return act('drop', id, button);
  button.dataset.armed = '1';
  button.textContent = 'Really drop?';
  setTimeout(() => {
    button.dataset.armed = '';
    button.textContent = 'Drop';
  }, 5000);
}

async function act(action, id, button) {
  button.disabled = true;
  say(action === 'retry' ? `Retrying #${id}…` : `Dropping #${id}…`);
  try {
    const result = await call('POST', `/dead-letters/${action}`, { ids: [id] });
    if (result.notFound > 0) say(`#${id} is not a dead letter of this key's tenant (any more).`, 'warn');
    else if (action === 'drop') say(`Dropped #${id}.`, 'ok');
    else if (result.projected > 0) say(`#${id} retried and projected.`, 'ok');
    else if (result.pending > 0) say(`#${id} retried; the projector has not applied it yet (is it running?).`, 'warn');
    else say(`#${id} retried and refused again; its reason is updated.`, 'bad');
    await loadLetters(true);
    void poll();
  } catch (error) {
    say(error.message, 'bad');
    button.disabled = false;
  }
}

async function loadLetters(fromStart) {
  if (fromStart) letterCursor = '0';
  const list = byId('dl-list');
  const page = await call('GET', `/dead-letters?after=${encodeURIComponent(letterCursor)}&limit=${PAGE_SIZE}`);
  if (fromStart) list.replaceChildren();
  for (const letter of page.deadLetters) list.append(letterItem(letter));
  setText('dl-summary', page.total === 0 ? 'This tenant has no dead letters.' : `This tenant has ${page.total} dead letter${page.total === 1 ? '' : 's'}.`);
  letterCursor = page.next ?? letterCursor;
  byId('dl-more').hidden = page.next === null;
}

function start() {
  byId('key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = byId('api-key');
    apiKey = input.value.trim();
    input.value = '';
    byId('key-forget').hidden = false;
    say('Loading…');
    try {
      await loadLetters(true);
      say('');
    } catch (error) {
      say(error.message, 'bad');
    }
  });
  byId('key-forget').addEventListener('click', () => {
    apiKey = null;
    byId('dl-list').replaceChildren();
    setText('dl-summary', '');
    byId('dl-more').hidden = true;
    byId('key-forget').hidden = true;
    say('Key forgotten.');
  });
  byId('dl-more').addEventListener('click', () => loadLetters(false).catch((error) => say(error.message, 'bad')));
  // A hidden tab stops polling; coming back refreshes at once.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void poll();
  });
  setInterval(showLive, 1000);
  void poll();
}

start();
