import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from './workload.ts';

/** What the hostile tenant saw, per kind of poison: status code → count. */
export type HostileTally = Map<string, Map<string, number>>;

interface Poison {
  kind: string;
  /** A request the door must refuse (4xx): poison that must never be acknowledged. */
  mustRefuse: boolean;
  send: (context: SendContext) => Promise<number>;
}

interface SendContext {
  url: string;
  apiKey: string;
  serial: number;
  now: number;
}

const post = async (context: SendContext, body: string, headers: Record<string, string> = {}, path = '/v1/events'): Promise<number> => {
  const response = await fetch(`${context.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${context.apiKey}`, 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.status;
};

const event = (context: SendContext, values: string, extra = ''): string =>
  `{"device":"hostile-${context.serial % 50}","id":"h${context.serial}"${extra},"ts":${context.now},"values":${values}}`;

/**
 * The poison a hostile tenant mixes into its traffic, each written as raw JSON text so that what
 * JavaScript would normalise on the way (lone surrogates, huge numbers) reaches the server as sent.
 */
const POISONS: Poison[] = [
  { kind: 'nul-in-value', mustRefuse: true, send: (c) => post(c, event(c, '{"s":"a\\u0000b"}')) },
  { kind: 'nul-in-id', mustRefuse: true, send: (c) => post(c, `{"device":"hostile-nul","id":"x\\u0000${c.serial}","ts":${c.now},"values":{"v":1}}`) },
  { kind: 'lone-surrogate', mustRefuse: true, send: (c) => post(c, event(c, '{"s":"\\ud800"}')) },
  { kind: 'surrogate-id', mustRefuse: true, send: (c) => post(c, `{"device":"hostile-sur","id":"\\udfff${c.serial}","ts":${c.now},"values":{"v":1}}`) },
  {
    kind: 'float8-overflow-pair',
    mustRefuse: true,
    send: (c) => post(c, `{"events":[${event(c, '{"big":1.7e308}')},${event({ ...c, serial: c.serial + 0.5 }, '{"big":1.7e308}')}]}`),
  },
  { kind: 'far-future', mustRefuse: true, send: (c) => post(c, `{"device":"hostile-future","id":"f${c.serial}","ts":"9999-12-31T23:59:59Z","values":{"v":1}}`) },
  { kind: 'calendar-invalid', mustRefuse: true, send: (c) => post(c, `{"device":"hostile-date","id":"d${c.serial}","ts":"2026-11-31T00:00:00Z","values":{"v":1}}`) },
  {
    kind: 'key-spray',
    // The first few events of a device fill its key budget and are accepted; the rest must be refused.
    mustRefuse: false,
    send: (c) => {
      const values = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${c.serial}_${i}`, i]));
      return post(c, JSON.stringify({ device: 'hostile-wide', id: `w${c.serial}`, ts: c.now, values }));
    },
  },
  {
    kind: 'wide-device-update',
    // A device at its key budget updating one value: accepted, and its live update must stay small.
    mustRefuse: false,
    send: (c) => post(c, JSON.stringify({ device: 'hostile-wide', id: `u${c.serial}`, ts: c.now, values: { k0_0: c.serial } })),
  },
  { kind: 'keyless-encoded-path', mustRefuse: true, send: (c) => post(c, event(c, '{"v":1}'), { authorization: '' }, '/%76%31/events') },
  { kind: 'keyless-encoded-digit', mustRefuse: true, send: (c) => post(c, event(c, '{"v":1}'), { authorization: '' }, '/v%31/events') },
  { kind: 'keyless-absolute-form', mustRefuse: true, send: (c) => rawPost(c.url, 'http://h/v1/events', event(c, '{"v":1}')) },
  { kind: 'junk-key', mustRefuse: true, send: (c) => post(c, event(c, '{"v":1}'), { authorization: `Bearer ${'x'.repeat(16_000)}` }) },
];

/** A request with an absolute-form target, which fetch cannot send; answers with the status code. */
function rawPost(base: string, target: string, body: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setTimeout(15_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed without an answer')));
    socket.write(`POST ${target} HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

/**
 * Sends a steady seeded mix of poison as one tenant until `done()` says the neighbour's writers have
 * finished. Records every answer per kind, and as problems: any 5xx, and any poison acknowledged.
 */
export async function runHostileSender(
  options: { url: () => string; apiKey: string; seed: number; concurrency: number; done: () => boolean },
  problems: string[],
): Promise<HostileTally> {
  const tally: HostileTally = new Map();
  let serial = 0;
  // Several loops, so poison lands in the same group-commit windows as the neighbour's requests.
  const loop = async (index: number): Promise<void> => {
    const random = seededRandom(options.seed * 100 + index);
    while (!options.done()) {
      const poison = POISONS[Math.floor(random() * POISONS.length)] as Poison;
      serial += 1;
      let status: string;
      try {
        status = String(await poison.send({ url: options.url(), apiKey: options.apiKey, serial, now: Date.now() }));
      } catch {
        status = 'connection-error';
      }
      const counts = tally.get(poison.kind) ?? new Map<string, number>();
      counts.set(status, (counts.get(status) ?? 0) + 1);
      tally.set(poison.kind, counts);
      // Each kind of problem once: the tally in the notes has the counts.
      const problem = status.startsWith('5')
        ? `hostile ${poison.kind} answered ${status}`
        : poison.mustRefuse && status.startsWith('2') ? `hostile ${poison.kind} was acknowledged (${status})` : undefined;
      if (problem && !problems.includes(problem)) problems.push(problem);
      await sleep(random() * 4);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => loop(index)));
  return tally;
}

export function describeTally(tally: HostileTally): string {
  return [...tally]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, counts]) => `${kind} ${[...counts].map(([status, n]) => `${status}×${n}`).join('/')}`)
    .join(', ');
}
