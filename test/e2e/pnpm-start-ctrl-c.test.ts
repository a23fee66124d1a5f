// The newcomer's `pnpm start` ends cleanly on Ctrl-C: exit status 0 and no pnpm `ELIFECYCLE`
// line (issue 14). A terminal's Ctrl-C sends SIGINT to the whole foreground process group, so the
// test starts pnpm as the leader of a group of its own and signals the group, as the terminal does.
// Before the start script exec'd the real node binary, the `node_modules/.bin/node` shell shim died
// of that SIGINT while the stack was still stopping, and pnpm reported the script as failed.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestEnvironment, freePort } from '@strata/testkit';

const root = fileURLToPath(new URL('../..', import.meta.url));

t.test('Ctrl-C on pnpm start stops every service and exits 0 without ELIFECYCLE', async (t) => {
  const { config } = await createTestEnvironment(t);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    // As in a user's terminal: under `pnpm test` PATH starts with node_modules/.bin, whose `node`
    // is a shell shim, and pnpm's `#!/usr/bin/env node` would then run under a shell that dies of
    // the group's SIGINT, whatever the stack does.
    PATH: (process.env.PATH ?? '')
      .split(':')
      .filter((dir) => !dir.includes('node_modules'))
      .join(':'),
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    REDIS_PREFIX: config.redisPrefix,
    COMMAND_API_PORT: String(await freePort()),
    QUERY_API_PORT: String(await freePort()),
    OPS_PORT: String(await freePort()),
    PROJECTOR_METRICS_PORT: String(await freePort()),
    MQTT_PORT: '0',
    LOG_LEVEL: 'warn',
  };
  const pnpm = spawn('pnpm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  pnpm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  pnpm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    pnpm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(() => {
    if (pnpm.exitCode === null && pnpm.signalCode === null) process.kill(-pnpm.pid!, 'SIGKILL');
  });

  const deadline = Date.now() + 90_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (Date.now() > deadline || pnpm.exitCode !== null) t.fail(`the stack did not come up:\n${output}`);
    if (Date.now() > deadline || pnpm.exitCode !== null) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.kill(-pnpm.pid!, 'SIGINT');
  const { code, signal } = await exited;

  t.equal(signal, null, 'pnpm is not killed by the signal');
  t.equal(code, 0, 'exit status 0');
  t.notMatch(output, /ELIFECYCLE/, 'no ELIFECYCLE line');
  t.match(output, /\[stack\] stopped/, 'the stack stopped its services in order');
  t.notMatch(output, /exited unexpectedly/, 'no service died on its own');
});
