import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { createLogger, createPool, normalizeEvent, type BatchEvent, type PoolClient } from '@strata/core';
// The very statement the projector runs, so the ceiling is measured on the same work.
import { projectBatch } from '../packages/projector/src/queries/project-batch.ts';
import { phaseStart } from './event-bodies.ts';
import { BATCH_EVENTS, DEVICES } from './measure-sustained-ingest.ts';

export interface RawLimit {
  eventsPerSec: number;
  events: number;
}

/**
 * The machine's ceiling for this schema: the same event rows COPYed into staging and flushed by the
 * projection statement, with no HTTP, JSON parsing, validation or queue, on as many connections as
 * the projector uses.
 */
export async function measureRawLimit(databaseUrl: string, tenant: string, events: number, concurrency: number, run: number): Promise<RawLimit> {
  const logger = createLogger('bench', 'warn');
  const staging = createPool({ connectionString: databaseUrl, max: concurrency, applicationName: 'bench-raw', settings: { synchronous_commit: 'off' } }, logger);
  const flush = createPool({ connectionString: databaseUrl, max: concurrency, applicationName: 'bench-raw', settings: { synchronous_commit: 'on' } }, logger);
  const batches: BatchEvent[][] = [];
  for (let b = 0; b * BATCH_EVENTS < events; b++) {
    const batch: BatchEvent[] = [];
    for (let n = b * BATCH_EVENTS; n < Math.min(events, (b + 1) * BATCH_EVENTS); n++) {
      const result = normalizeEvent({ device: `raw-${n % DEVICES}`, id: `raw${run}-${n}`, ts: phaseStart(run, 0) + n, values: { temp: (n % 400) / 10, hr: 60 + (n % 90), status: n % 10 === 0 ? 'warn' : 'ok' } });
      if ('event' in result) batch.push({ ...result.event, tenantId: tenant });
    }
    batches.push(batch);
  }
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let b = next++; b < batches.length; b = next++) {
      const batchId = randomUUID();
      const batch = batches[b] as BatchEvent[];
      const client = await staging.connect();
      try {
        await copyIntoStaging(client, batchId, batch);
      } finally {
        client.release();
      }
      await projectBatch(flush, batchId, batch);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await staging.end();
  await flush.end();
  return { eventsPerSec: events / elapsed, events };
}

async function copyIntoStaging(client: PoolClient, batchId: string, batch: BatchEvent[]): Promise<void> {
  const csv = (text: string) => `"${text.replaceAll('"', '""')}"`;
  const lines = batch.map(
    (e) => `${batchId},${e.tenantId},${csv(e.device)},${csv(e.key)},${new Date(e.ts).toISOString()},${csv(e.type)},${csv(JSON.stringify(e.values))}\n`,
  );
  const stream = client.query(copyStreams.from('COPY staging_events (batch_id, tenant_id, device, event_key, ts, type, "values") FROM STDIN WITH (FORMAT csv)'));
  await pipeline(Readable.from(lines), stream);
}
