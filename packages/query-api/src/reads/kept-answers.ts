import type { Counter } from 'prom-client';
import type { ReadMeta } from '../model/read-meta.ts';
import type { AnswerMemo } from './answer-memo.ts';

const DAY_MS = 86_400_000;

/** Answers kept for reuse while what they were computed from is unchanged (decision 0103). */
export interface KeptAnswers {
  memo: AnswerMemo;
  /**
   * AGGREGATE_RETENTION_DAYS: retention deletes rollups and counters and nothing says so in a tag,
   * so a range reaching within a day of its horizon is never kept.
   */
  aggregateRetentionDays: number;
  /** `read`: series or stats; `result`: hit, changed or miss. */
  lookups: Counter<'read' | 'result'>;
}

/** A read that can be kept: its key, the range it starts at and how to probe and read it. */
export interface KeepableRead {
  kind: 'series' | 'stats';
  tenantId: string;
  /** Names hold no U+0000 (NAME_RULE, DEVICE_RULE), so joining the parts by it keeps every key apart; the tenant first. */
  keyParts: readonly string[];
  /** ISO-8601 start of the range (inclusive). */
  from: string;
  /** The tag as a snapshot taken now on the routed source sees it, with that read's meta. */
  probe: () => Promise<{ value: string; meta: ReadMeta }>;
  /**
   * The whole read: its JSON text, its tag from the same snapshot ('none': do not keep), its meta.
   * `keep`: the answer would be kept, so the tag is wanted (a read may skip computing it otherwise).
   */
  read: (keep: boolean) => Promise<{ json: string; tag: string; meta: ReadMeta }>;
}

/**
 * The kept answer when the probe finds its tag unchanged (then it is the answer the routed source
 * would give now, and goes out with the probe's meta); otherwise the whole read, kept for next time.
 */
export async function readKeeping(kept: KeptAnswers | undefined, nowMs: number, r: KeepableRead): Promise<{ json: string; meta: ReadMeta }> {
  if (kept === undefined || Date.parse(r.from) < nowMs - (kept.aggregateRetentionDays - 1) * DAY_MS) {
    const { json, meta } = await r.read(false);
    return { json, meta };
  }
  const key = [r.tenantId, r.kind, ...r.keyParts].join('\u0000');
  const entry = kept.memo.get(key);
  if (entry) {
    const probe = await r.probe();
    if (probe.value === entry.tag) {
      kept.memo.use(key);
      kept.lookups.inc({ read: r.kind, result: 'hit' });
      return { json: entry.json, meta: probe.meta };
    }
    kept.lookups.inc({ read: r.kind, result: 'changed' });
  } else {
    kept.lookups.inc({ read: r.kind, result: 'miss' });
  }
  const { json, tag, meta } = await r.read(true);
  if (tag !== 'none') kept.memo.set(r.tenantId, key, json, tag);
  return { json, meta };
}
