import type { Pool } from '@strata/core';
import { describeCheck, type StoredCheck } from './check-stored-events.ts';
import { SERIES_END_MS } from './load-series-device.ts';
import { runLoad } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilDrained } from './wait-until-projected.ts';

/** The group the group reads read: every device labelled `fleet=bench` (SPEC "Groups (labels)"). */
export const GROUP_LABEL = 'fleet';
export const GROUP_LABEL_VALUE = 'bench';
/** The value summed over the group. */
export const GROUP_VALUE_KEY = 'power';
export const GROUP_DEVICES = 1000;
/** The group's history is the 25 h before the series device's end: 24 h @ 1h, and a total anywhere in it. */
export const GROUP_SPAN_MS = 25 * 3_600_000;
export const GROUP_START_MS = SERIES_END_MS - GROUP_SPAN_MS;
/** Only the group's devices are named so (the other phases' are `d-…`, `lp-…`, `series-device`, …). */
export const GROUP_DEVICE_PATTERN = 'g-%';

export function groupDevice(d: number): string {
  return `g-${String(d).padStart(4, '0')}`;
}

/**
 * The reading of device d in slot s: its time and value. Each device reports once per `everyMs` at its
 * own phase in the slot (a pseudo-random millisecond, as real devices' clocks fall), so every minute
 * holds readings of many devices at many distinct instants, not one burst per slot. Values have one
 * decimal, so sums test the aggregates' exactness, not float rounding.
 */
export function groupReading(d: number, s: number, everyMs: number): { ts: number; power: number } {
  const phase = (Math.imul(d + 1, 2654435761) >>> 0) % everyMs;
  return { ts: GROUP_START_MS + s * everyMs + phase, power: ((d * 31 + s * 17) % 5000) / 10 };
}

/**
 * Sends one reading of `power` per device every `everyMinutes` over GROUP_SPAN_MS, each event
 * carrying `labels: {"fleet":"bench"}` (effective from its ts, so every reading counts in the group),
 * through the real command-api: one body per slot with every device's reading (1,000 events), slots in
 * time order. Waits until all are in history and checks every one was stored once.
 */
export async function loadGroupHistory(stack: BenchStack, everyMinutes: number): Promise<StoredCheck> {
  const everyMs = everyMinutes * 60_000;
  const slots = GROUP_SPAN_MS / everyMs;
  const labels = `{"${GROUP_LABEL}":"${GROUP_LABEL_VALUE}"}`;
  const load = await runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 4,
    amount: slots,
    next: (s) => {
      const items: string[] = [];
      for (let d = 0; d < GROUP_DEVICES; d++) {
        const { ts, power } = groupReading(d, s, everyMs);
        items.push(`{"device":"${groupDevice(d)}","id":"grp-${d}-${s}","ts":${ts},"values":{"${GROUP_VALUE_KEY}":${power}},"labels":${labels}}`);
      }
      return { body: `{"events":[${items.join(',')}]}` };
    },
  });
  if (load.non2xx + load.errors > 0) throw new Error(`loading the group history: ${load.non2xx + load.errors} requests refused`);
  await waitUntilDrained(stack.db, 900_000);
  return checkGroupStored(stack.db, stack.tenant, load.acceptedEvents);
}

// The series device's history shares this window of event time, so the group's rows are told apart by
// their devices; ids are unique per reading, so distinct keys must equal the rows.
const STORED_SQL = `SELECT count(*)::bigint AS n, count(DISTINCT (device, event_key))::bigint AS distinct
  FROM tenant_events WHERE tenant_id = $1 AND device LIKE '${GROUP_DEVICE_PATTERN}' AND ts >= $2 AND ts < $3`;

async function checkGroupStored(db: Pool, tenant: string, acknowledged: number): Promise<StoredCheck> {
  const result = await db.query<{ n: string; distinct: string }>(STORED_SQL, [tenant, new Date(GROUP_START_MS), new Date(SERIES_END_MS)]);
  const stored = Number(result.rows[0]?.n ?? 0);
  const distinct = Number(result.rows[0]?.distinct ?? 0);
  const ok = stored === acknowledged && distinct === stored;
  const check: StoredCheck = { scenario: 'group history (1,000 devices)', acknowledged, stored, distinct, ok };
  if (!ok) process.stderr.write(`FAIL ${describeCheck(check)}\n`);
  return check;
}
