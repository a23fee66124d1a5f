// One tenant's dead letters, with the key the operator typed: kept in this module's memory only,
// sent only as a Bearer header to this origin. Listing takes a read or all key, actions an all key.
import { byId, el, setText } from './dom.js';
import { poll } from './status-view.js';

const PAGE_SIZE = 50;
let apiKey = null;
let letterCursor = '0';

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

/** Wires the key form and the list's buttons. */
export function startDeadLetters() {
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
}
