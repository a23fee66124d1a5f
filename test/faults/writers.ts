import { setTimeout as sleep } from 'node:timers/promises';
import { decodeToken } from '@strata/core';
import { seededRandom, type FaultEvent } from './workload.ts';

export interface WriterOptions {
  url: () => string;
  apiKey: string;
  events: FaultEvent[];
  writers: number;
  /** Events per request, drawn uniformly from [min, max]. */
  batch: [number, number];
  /** Pause between a writer's requests, drawn uniformly from [min, max] ms. */
  delayMs: [number, number];
  /** A request still refused after this long is given up (and its events counted as unacknowledged). */
  giveUpAfterMs: number;
  seed: number;
}

/** What the writers saw: only 202s count as acknowledged, as a device would count them. */
export class WriteLog {
  readonly acked = new Map<string, FaultEvent>();
  readonly batchIds = new Set<string>();
  readonly statuses = new Map<string, number>();
  givenUp = 0;
  count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}

/**
 * Devices posting batches concurrently. A refused request (503, 429, a connection error, a reset
 * mid-request) is retried with the same events after a short pause, as a real device would; the
 * re-send is deduplicated by the event ids.
 */
export async function runWriters(options: WriterOptions, log = new WriteLog()): Promise<WriteLog> {
  let next = 0;
  const take = (size: number): FaultEvent[] => {
    const slice = options.events.slice(next, next + size);
    next += slice.length;
    return slice;
  };
  const writer = async (index: number): Promise<void> => {
    const random = seededRandom(options.seed * 1000 + index);
    const [minBatch, maxBatch] = options.batch;
    for (;;) {
      const events = take(minBatch + Math.floor(random() * (maxBatch - minBatch + 1)));
      if (events.length === 0) return;
      await send(options, log, events, random);
      const [minDelay, maxDelay] = options.delayMs;
      if (maxDelay > 0) await sleep(minDelay + random() * (maxDelay - minDelay));
    }
  };
  await Promise.all(Array.from({ length: options.writers }, (_, index) => writer(index)));
  return log;
}

async function send(options: WriterOptions, log: WriteLog, events: FaultEvent[], random: () => number): Promise<void> {
  const deadline = Date.now() + options.giveUpAfterMs;
  const body = JSON.stringify({ events });
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${options.url()}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      log.count(String(response.status));
      const answer = (await response.json().catch(() => ({}))) as { token?: string };
      if (response.status === 202) {
        for (const event of events) log.acked.set(event.id, event);
        log.batchIds.add(decodeToken(answer.token ?? '') ?? 'missing-token');
        return;
      }
      if (response.status !== 503 && response.status !== 429) throw new Error(`unexpected ${response.status}: ${JSON.stringify(answer)}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('unexpected')) throw error;
      log.count('connection-error');
    }
    await sleep(50 + random() * 200);
  }
  log.givenUp += events.length;
}
