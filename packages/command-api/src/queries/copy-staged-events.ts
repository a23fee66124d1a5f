import { from as copyFrom } from 'pg-copy-streams';
import { valueStateText, withClient, type BatchEvent, type Pool, type PoolClient } from '@strata/core';
import { toTimestampText } from './to-timestamp-text.ts';

// The columns insert-staged-events writes, in COPY's text format: a line per event, a tab between
// columns, \N for NULL (decision 0117).
const SQL = 'COPY staging_events (batch_id, tenant_id, device, event_key, ts, type, "values", labels, state) FROM STDIN';

/**
 * The text one COPY statement carries, at most (plus one row). A batch's text is bounded only by its
 * events' sizes, and the largest string V8 builds is ~512 M characters: a batch of large values would
 * fail whole, its neighbours' events with it, at half the size the insert's parameters allow. A batch
 * beyond this goes in several COPYs in one transaction, each text built when the one before is stored.
 */
const COPY_CHUNK_CHARS = 8 * 1024 * 1024;

// COPY's text format gives these four characters a meaning; anything else travels as it is.
const SPECIAL = /[\\\t\n\r]/;

/** A column's text as COPY reads it back: a device name `\N` stays a name, never a NULL. */
function field(text: string): string {
  return SPECIAL.test(text) ? text.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n').replaceAll('\r', '\\r') : text;
}

/** JSON text as a column: JSON.stringify writes no raw tab, newline or carriage return, only backslashes. */
function jsonField(text: string): string {
  return text.includes('\\') ? text.replaceAll('\\', '\\\\') : text;
}

/** The rows of events from `from` on, until the text reaches `chunkChars`; `next` is the first event left out. */
function rows(batchId: string, events: readonly BatchEvent[], from: number, chunkChars: number): { text: string; next: number } {
  let text = '';
  let i = from;
  while (i < events.length && text.length < chunkChars) {
    const event = events[i++] as BatchEvent;
    const state = valueStateText(event.values, event.ts);
    text +=
      `${batchId}\t${event.tenantId}\t${field(event.device)}\t${field(event.key)}\t${toTimestampText(event.ts)}\t${field(event.type)}\t` +
      `${jsonField(JSON.stringify(event.values))}\t${event.labels === undefined ? '\\N' : jsonField(JSON.stringify(event.labels))}\t${state === null ? '\\N' : jsonField(state)}\n`;
  }
  return { text, next: i };
}

/** One COPY of `text`, written in one piece (pg-copy-streams 7 throws outside any handler when a COPY fails with chunks still queued). */
function copy(client: PoolClient, text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = client.query(copyFrom(SQL));
    stream.on('error', reject);
    // 'finish' comes once PostgreSQL has stored every row and the connection is ready again.
    stream.on('finish', resolve);
    stream.end(text);
  });
}

/**
 * Stages a batch with one COPY: the same rows as insertStagedEvents, for a third of PostgreSQL's CPU
 * once a batch holds more than a few dozen events (the insert parses eight array parameters, element
 * by element; decision 0117). Each time is staged as the insert stages it (toTimestampText). A batch
 * whose text passes `chunkChars` goes in several COPYs, in one transaction: staged whole or not at all.
 */
export async function copyStagedEvents(pool: Pool, batchId: string, events: readonly BatchEvent[], chunkChars = COPY_CHUNK_CHARS): Promise<void> {
  let chunk = rows(batchId, events, 0, chunkChars);
  await withClient(pool, async (client, discard) => {
    // A refused row fails the whole COPY (the server drops the rest of the data), and so does a lost
    // connection, whose socket may report its end only after the COPY has failed: a connection that
    // failed a COPY is closed, not given back, which also rolls back a transaction of several. Both
    // are rare; a new connection is cheap.
    try {
      if (chunk.next === events.length) {
        await copy(client, chunk.text);
        return;
      }
      await client.query('BEGIN');
      for (;;) {
        await copy(client, chunk.text);
        if (chunk.next === events.length) break;
        chunk = rows(batchId, events, chunk.next, chunkChars);
      }
      await client.query('COMMIT');
    } catch (error) {
      discard();
      throw error;
    }
  });
}
