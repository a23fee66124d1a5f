// The system cards: polls /status.json and renders each source (or why it could not be read).
import { age, byId, clearError, el, failed, mark, num, setText } from './dom.js';

const POLL_MS = 2000;
let lastOk = 0;
let timer = null;

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

// The oldest noted minute and since when this page has seen it stay the oldest: a refresher that
// keeps failing on one tenant leaves it in place while the count stays small (hostile review).
const STUCK_AFTER_MS = 120_000;
let oldestSeen = { minute: null, since: 0 };

function renderAggregation(a) {
  if (failed('card-aggregation', a, ['agg-notes'])) return;
  clearError('card-aggregation');
  if (a.oldestMinute !== oldestSeen.minute) oldestSeen = { minute: a.oldestMinute, since: Date.now() };
  const stuckMs = a.oldestMinute === null ? 0 : Date.now() - oldestSeen.since;
  const stuck = stuckMs >= STUCK_AFTER_MS;
  setText('agg-notes', num(a.notes));
  setText('agg-tenants', num(a.tenants));
  setText(
    'agg-oldest',
    a.oldestMinute === null
      ? 'none: caught up'
      : `${a.oldestMinute} (${age(a.oldestAgeMs)} old, event time)${stuck ? `; not refreshed for ${age(stuckMs)}: is a tenant's refresh failing? (strata_aggregate_refreshes_total{result="failed"}, projector log)` : ''}`,
  );
  mark('card-aggregation', stuck ? 'bad' : a.notes > 10000 ? 'warn' : 'ok');
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

export function showLive() {
  const live = byId('live');
  const since = Date.now() - lastOk;
  const stale = lastOk === 0 || since > POLL_MS * 3;
  live.className = `live ${lastOk === 0 ? 'unknown' : stale ? 'stale' : 'ok'}`;
  if (lastOk !== 0) setText('live-text', stale ? `stale: last update ${age(since)} ago` : 'live');
}

export async function poll() {
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

