import { from as copyFrom } from 'pg-copy-streams';
import { valueStateText, withClient, type BatchEvent, type Pool } from '@strata/core';
import { toTimestampText } from './to-timestamp-text.ts';

// The columns insert-staged-events writes, in COPY's text format: a line per event, a tab between
// columns, \N for NULL (decision 0117).
const SQL = 'COPY staging_events (batch_id, tenant_id, device, event_key, ts, type, "values", labels, state) FROM STDIN';

// COPY's text format gives these four characters a meaning; anything else travels as it is.
const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A column's text as COPY reads it back: a device name `\N` stays a name, never a NULL. */
function field(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c] as string) : text;
}

/**
 * Stages a batch with one COPY: the same rows as insertStagedEvents, for a third of PostgreSQL's CPU
 * once a batch holds more than a few dozen events (the insert parses eight array parameters, element
 * by element; decision 0117). Each time is staged as the insert stages it (toTimestampText).
 */
export async function copyStagedEvents(pool: Pool, batchId: string, events: readonly BatchEvent[]): Promise<void> {
  let text = '';
  for (const event of events) {
    const state = valueStateText(event.values, event.ts);
    text +=
      `${batchId}\t${event.tenantId}\t${field(event.device)}\t${field(event.key)}\t${toTimestampText(event.ts)}\t${field(event.type)}\t` +
      `${field(JSON.stringify(event.values))}\t${event.labels === undefined ? '\\N' : field(JSON.stringify(event.labels))}\t${state === null ? '\\N' : field(state)}\n`;
  }
  await withClient(pool, (client, discard) =>
    new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(SQL));
      // A refused row fails the whole COPY (the server drops the rest of the data), and so does a
      // lost connection, whose socket may report its end only after the COPY has failed: a
      // connection that failed a COPY is closed, not given back. Both are rare; a new one is cheap.
      stream.on('error', (error) => {
        discard();
        reject(error);
      });
      // 'finish' comes once PostgreSQL has stored every row and the connection is ready again.
      stream.on('finish', resolve);
      stream.end(text);
    }),
  );
}
