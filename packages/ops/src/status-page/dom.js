// Small DOM and formatting helpers of the status page. Text from the server is only ever set with
// textContent (setText, el): it is attacker-controlled (dead-letter reasons, event payloads, names).

export const byId = (id) => document.getElementById(id);
export function setText(id, text) {
  const node = byId(id);
  if (node) node.textContent = text;
}
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
export function num(n) {
  if (n === null || n === undefined) return '–';
  return Math.abs(n) >= 10000 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 10) / 10);
}
export function age(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s * 10) / 10} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
/** Colours a card: ok, warn, bad or unknown (a source that could not be read). */
export function mark(cardId, state) {
  const card = byId(cardId);
  if (card) card.dataset.state = state;
}
export function failed(cardId, section, fields) {
  if (section.ok) return false;
  mark(cardId, 'unknown');
  for (const id of fields) setText(id, '?');
  const card = byId(cardId);
  let note = card.querySelector('.error');
  if (!note) note = card.appendChild(el('p', 'error'));
  note.textContent = `Could not read: ${section.error}`;
  return true;
}
export function clearError(cardId) {
  byId(cardId).querySelector('.error')?.remove();
}

