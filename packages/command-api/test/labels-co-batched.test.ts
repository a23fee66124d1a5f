import t from 'tap';
import { createTenant, startInProcessProjector, waitForToken } from '@strata/testkit';
import { buildTestApp } from './build-test-app.ts';

/*
 * A tenant's bad labels cost only its own request, also while a neighbour's labelled events share the
 * group-commit window: every bad request is a 400 naming `labels` and stores nothing, the hostile
 * tenant's well-formed requests share batches with the neighbour's (the window is wide open), and every
 * one of the neighbour's events reaches history once with its labels.
 */
const HOUR = 3_600_000;

t.test("a tenant's bad labels never fail a neighbour's labelled events in the same batches", async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 40, retentionDays: 30 });
  await startInProcessProjector(t, ctx.config);
  const neighbour = ctx.tenant;
  const hostile = await createTenant(ctx.db, 'hostile');
  const ts = new Date(Date.now() - HOUR).toISOString();
  const post = (apiKey: string, payload: string) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, payload });

  const badLabels: [string, string][] = [
    ['33 labels', JSON.stringify(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'x'])))],
    ['a 129-character value', JSON.stringify({ space: 'v'.repeat(129) })],
    ['a 129-character name', JSON.stringify({ ['n'.repeat(129)]: 'x' })],
    ['U+0000 in a value', JSON.stringify({ space: 'a\u0000b' })],
    ['a lone surrogate in a name', '{"\\ud800":"x"}'],
    ['an empty name', JSON.stringify({ '': 'x' })],
    ['a number as value', JSON.stringify({ space: 7 })],
    ['an object as value', JSON.stringify({ space: { nested: 'x' } })],
    ['labels as an array', JSON.stringify(['space', 'lobby'])],
    ['labels as a string', JSON.stringify('space=lobby')],
  ];

  const neighbourTokens: string[] = [];
  const hostileValidBatches = new Set<string>();
  const neighbourBatches = new Set<string>();
  let refused = 0;
  for (let round = 0; round < 5; round++) {
    const requests = [
      ...Array.from({ length: 4 }, async (_, i) => {
        const events = Array.from({ length: 5 }, (_, e) => ({ device: `n-${i}`, id: `n-${round}-${i}-${e}`, ts, values: { v: e }, labels: { space: `lobby-${i}` } }));
        const answer = await post(neighbour.apiKey, JSON.stringify({ events }));
        t.equal(answer.statusCode, 202, `neighbour round ${round} request ${i}`);
        const token = answer.json().token as string;
        neighbourTokens.push(token);
        neighbourBatches.add(token.slice(3));
      }),
      ...badLabels.map(async ([what, labels]) => {
        // A good event before the bad one: the whole request is refused, nothing of it stored.
        const payload = `{"events":[{"device":"h-ok","ts":"${ts}","values":{"v":1}},{"device":"h-bad","ts":"${ts}","values":{"v":1},"labels":${labels}}]}`;
        const answer = await post(hostile.apiKey, payload);
        const body = answer.json();
        const field = body.error?.details?.[0]?.field as string | undefined;
        if (answer.statusCode === 400 && field?.startsWith('labels') && body.error.details[0].index === 1) refused++;
        else t.fail(`${what}: ${answer.statusCode} ${answer.body}`);
      }),
      (async () => {
        const answer = await post(hostile.apiKey, JSON.stringify({ device: 'h-good', id: `h-${round}`, ts, values: { v: round }, labels: { space: 'attic' } }));
        t.equal(answer.statusCode, 202, `hostile well-formed request, round ${round}`);
        hostileValidBatches.add((answer.json().token as string).slice(3));
      })(),
    ];
    await Promise.all(requests);
  }
  t.equal(refused, 5 * badLabels.length, 'every bad request refused, naming labels of its second event');
  const shared = [...hostileValidBatches].filter((batch) => neighbourBatches.has(batch));
  t.ok(shared.length > 0, `the hostile tenant's accepted requests shared ${shared.length} of ${hostileValidBatches.size} batches with the neighbour's`);

  for (const token of neighbourTokens) await waitForToken(ctx.db, token, 30_000);
  const stored = await ctx.db.query<{ n: number; distinct: number; labelled: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT event_key)::int AS distinct, count(*) FILTER (WHERE labels = jsonb_build_object('space', 'lobby-' || substr(device, 3)))::int AS labelled
       FROM tenant_events WHERE tenant_id = $1`,
    [neighbour.tenant],
  );
  t.same(stored.rows[0], { n: 100, distinct: 100, labelled: 100 }, "every one of the neighbour's events in history once, with its labels");
  const dead = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters');
  t.equal(dead.rows[0]?.n, 0, 'nothing dead-lettered');
  const hostileRows = await ctx.db.query<{ device: string }>(
    'SELECT device FROM tenant_events WHERE tenant_id = $1 UNION ALL SELECT device FROM staging_events WHERE tenant_id = $1',
    [hostile.tenant],
  );
  // (a row is in staging until drained, then in history: never both)
  t.same(hostileRows.rows.map((row) => row.device), Array(5).fill('h-good'), 'of the hostile tenant, only its five well-formed events were stored');
});
