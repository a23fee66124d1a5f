import t from 'tap';
import { loadConfig } from '../src/index.ts';

// Decision 0108: the value becomes a server setting (`-c work_mem=<n>MB` in the connection's options),
// so only whole MiB in PostgreSQL's range for it go through.
t.test('AGGREGATE_REFRESH_WORK_MEM_MB defaults to 64, takes 1 to 4096 and refuses anything else', async (t) => {
  t.equal(loadConfig({}).aggregateRefreshWorkMemMb, 64);
  t.equal(loadConfig({ AGGREGATE_REFRESH_WORK_MEM_MB: '1' }).aggregateRefreshWorkMemMb, 1);
  t.equal(loadConfig({ AGGREGATE_REFRESH_WORK_MEM_MB: '4096' }).aggregateRefreshWorkMemMb, 4096);
  for (const bad of ['0', '-1', '4097', '64MB', '1.5', '64 -c fsync=off', '9'.repeat(40)]) {
    t.throws(() => loadConfig({ AGGREGATE_REFRESH_WORK_MEM_MB: bad }), /AGGREGATE_REFRESH_WORK_MEM_MB/, `refuses ${JSON.stringify(bad).slice(0, 24)}`);
  }
});
