import t from 'tap';
import { decodeLiveMessage, encodeLiveDelta, LIVE_ENTRY_FIELD, liveMessageFromEntry, redisKeys, type LiveDelta } from '@strata/core';
import { startTestProjector } from './start-test-projector.ts';

/*
 * The projector's Lua script builds the published live message itself (it splices the stream entry
 * id into the delta's text); core's live-message.ts describes that format for query-api. This holds
 * the script's output to core's description, for a plain and for a truncated delta.
 */
const BASE = Date.UTC(2026, 10, 20, 12);

t.test("the script's stream entries and published messages are core's live-message format", async (t) => {
  // A 64 KiB stream cap bounds one message at 1 KiB, so the wide event below is sent truncated.
  const ctx = await startTestProjector(t, { liveStreamMaxBytes: 64 * 1024 });
  const published = await ctx.subscribeLive();
  await ctx.watchLive(); // as query-api does while the tenant has a live client (decision 0087)

  const wide: Record<string, string> = {};
  for (let k = 0; k < 100; k++) wide[`key${k}`] = 'x'.repeat(40);
  await ctx.project([{ device: 'd1', ts: BASE, values: { temp: 21.5, precise: 0.1 + 0.2, label: 'a "quoted" é', on: true, none: null } }]);
  await ctx.project([{ device: 'd1', ts: BASE + 1000, values: wide }]);
  for (let n = 0; n < 100 && published.length < 2; n++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(published.length, 2, 'one message per projection');

  const entries = await ctx.deps.cache.xrange(redisKeys.liveStream(ctx.config.redisPrefix, ctx.tenant), '-', '+');
  t.equal(entries.length, 2);
  for (const [index, [id, fields]] of entries.entries()) {
    t.same(fields.filter((_, i) => i % 2 === 0), [LIVE_ENTRY_FIELD], 'the entry holds the one field core names');
    const entryText = fields[1] as string;
    t.equal(entryText, encodeLiveDelta(JSON.parse(entryText) as LiveDelta), 'the entry is the delta as core encodes it (fields, order, numbers)');
    t.equal(published[index], liveMessageFromEntry(id, entryText), 'the published message is the entry with its id spliced in as core does it');
    t.same(decodeLiveMessage(published[index] as string), { id, device: 'd1' });
  }

  const plain = JSON.parse(published[0] as string);
  t.same(Object.keys(plain), ['id', 'device', 'ts', 'values', 'times', 'updatedAt', 'version']);
  t.equal(plain.values.precise, 0.1 + 0.2, 'numbers keep every digit through the script');
  t.equal(plain.values.label, 'a "quoted" é');
  t.equal(plain.times.temp, new Date(BASE).toISOString());
  const truncated = JSON.parse(published[1] as string);
  t.same(Object.keys(truncated), ['id', 'device', 'ts', 'values', 'times', 'truncated', 'changed', 'updatedAt', 'version']);
  t.same([truncated.truncated, truncated.changed, truncated.values, truncated.times], [true, 100, {}, {}]);
});
