import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess } from '../src/stack/service-process.ts';
import { captureIo } from '@strata/testkit';

const dir = await mkdtemp(join(tmpdir(), 'strata-stack-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

async function script(name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, body);
  return file;
}

t.test('output is prefixed and SIGTERM lets the service drain', async (t) => {
  const file = await script(
    'graceful.mjs',
    `console.log('ready'); console.error('warned');
     process.on('SIGTERM', () => { console.log('draining'); setTimeout(() => process.exit(0), 50); });
     setInterval(() => {}, 1000);`,
  );
  const io = captureIo();
  const service = new ServiceProcess({ name: 'svc', script: file, args: [], cwd: dir }, {}, io, 6);
  while (!io.out().includes('ready')) await new Promise((resolve) => setTimeout(resolve, 20));
  const exit = await service.stop(5000);
  t.same(exit, { name: 'svc', code: 0, signal: null });
  t.match(io.out(), /^svc    \| ready\nsvc    \| draining\n$/);
  t.equal(io.err(), 'svc    | warned\n');
  t.equal(service.running, false);
});

t.test('a service that ignores SIGTERM is killed after the timeout', async (t) => {
  const file = await script('stubborn.mjs', `process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);`);
  const io = captureIo();
  const service = new ServiceProcess({ name: 'stubborn', script: file, args: [], cwd: dir }, {}, io, 8);
  // Until it says so, its SIGTERM handler may not be installed yet (a loaded machine starts Node slowly),
  // and SIGTERM would end it at once instead of being ignored.
  while (!io.out().includes('up')) await new Promise((resolve) => setTimeout(resolve, 20));
  const started = Date.now();
  const exit = await service.stop(500);
  t.equal(exit.signal, 'SIGKILL');
  t.ok(Date.now() - started < 3000);
});

t.test('an unexpected exit resolves `exited`', async (t) => {
  const file = await script('crash.mjs', `process.exit(3)`);
  const service = new ServiceProcess({ name: 'crash', script: file, args: [], cwd: dir }, {}, captureIo(), 5);
  t.same(await service.exited, { name: 'crash', code: 3, signal: null });
});
