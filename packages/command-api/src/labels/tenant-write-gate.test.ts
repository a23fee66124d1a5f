import t from 'tap';
import { TenantWriteGate } from './tenant-write-gate.ts';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test("one write at a time per tenant, other tenants untouched, the line bounded", async (t) => {
  const gate = new TenantWriteGate(2);
  let running = 0;
  let most = 0;
  const releases: Array<() => void> = [];
  const write = (): Promise<string> =>
    new Promise((resolve) => {
      running++;
      most = Math.max(most, running);
      releases.push(() => {
        running--;
        resolve('done');
      });
    });
  const a = [gate.run('a', write), gate.run('a', write), gate.run('a', write)];
  await t.rejects(gate.run('a', write), /too many label writes/, 'a third waiting write of the tenant is refused at once');
  const b = gate.run('b', write);
  await tick();
  t.equal(running, 2, "tenant a's first write and tenant b's run side by side");
  while (releases.length > 0) {
    releases.shift()!();
    await tick();
    await tick();
  }
  t.same(await Promise.all(a), ['done', 'done', 'done']);
  t.equal(await b, 'done');
  t.equal(most, 2, 'never two writes of one tenant at once');
  t.equal(gate.tenants, 0, 'nothing kept once the lines are empty');
  await t.rejects(gate.run('a', async () => Promise.reject(new Error('boom'))), /boom/);
  t.equal(await gate.run('a', async () => 'next'), 'next', 'a failed write releases the line');
});
