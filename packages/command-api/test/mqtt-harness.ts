import { connect as connectSocket, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { generate, parser, type Packet } from 'mqtt-packet';
import pg from 'pg';
import { createPool, issueApiKey, type Config, type KeyScope } from '@strata/core';
import { createTenant, createTestEnvironment, freePort, type Teardownable } from '@strata/testkit';
import { closeCommandDeps, createCommandDeps, type CommandDeps } from '../src/deps.ts';
import { startCommandApi, type RunningCommandApi } from '../src/service.ts';

export interface MqttTestContext {
  config: Config;
  deps: CommandDeps;
  running: RunningCommandApi;
  db: pg.Pool;
  tenant: { tenant: string; apiKey: string };
  port: number;
  url: string;
  /** A key of the test tenant with this scope (and device binding). */
  issueKey(scope: KeyScope, device?: string): Promise<{ keyId: string; apiKey: string }>;
  /** Staged rows of a device (what a PUBACK promises is there). */
  staged(device: string): Promise<{ ms: number; values: Record<string, unknown> }[]>;
  /** Sums the samples of a metric on /metrics whose line contains `filter`. */
  metric(name: string, filter?: string): Promise<number>;
}

/** The real command API with its MQTT listener on a free port, on a private database and Redis prefix. */
export async function startMqttTestApp(t: Teardownable, overrides: Partial<Config> = {}): Promise<MqttTestContext> {
  const port = await freePort();
  const { config, logger } = await createTestEnvironment(t, { retentionDays: 36500, ingestMaxWaitMs: 1, ...overrides, mqttPort: port });
  const deps = createCommandDeps(config, { logger });
  const running = await startCommandApi(deps);
  t.teardown(async () => {
    await running.stop();
    await closeCommandDeps(deps);
  });
  const db = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, logger);
  t.teardown(() => db.end());
  const tenant = await createTenant(db, 'mqtt tenant');
  return {
    config,
    deps,
    running,
    db,
    tenant,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async issueKey(scope, device) {
      const issued = await issueApiKey(db, tenant.tenant, { scope, device: device ?? null });
      if (!issued) throw new Error('no key issued');
      return issued;
    },
    async staged(device) {
      const result = await db.query<{ ms: string; values: Record<string, unknown> }>(
        'SELECT (extract(epoch FROM ts) * 1000)::bigint AS ms, "values" FROM staging_events WHERE device = $1 ORDER BY ts',
        [device],
      );
      return result.rows.map((row) => ({ ms: Number(row.ms), values: row.values }));
    },
    async metric(name, filter = '') {
      const text = await deps.registry.metrics();
      return text
        .split('\n')
        .filter((line) => line.startsWith(name) && line.includes(filter))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    },
  };
}

/** Another command-api process's worth (its own deps and listener) on the same database and Redis prefix. */
export async function startSecondInstance(t: Teardownable, ctx: MqttTestContext): Promise<{ port: number; url: string }> {
  const port = await freePort();
  const deps = createCommandDeps({ ...ctx.config, mqttPort: port }, { logger: ctx.deps.logger });
  const running = await startCommandApi(deps);
  t.teardown(async () => {
    await running.stop();
    await closeCommandDeps(deps);
  });
  return { port, url: `mqtt://127.0.0.1:${port}` };
}

/**
 * A client that speaks MQTT by hand (mqtt-packet, the library's own codec), for what no well-behaved
 * client sends: wrong topics, QoS 2, oversized packets, garbage, silence.
 */
export class RawMqttClient {
  readonly socket: Socket;
  readonly packets: Packet[] = [];
  readonly closed: Promise<void>;
  readonly #version: number;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket, version: number) {
    this.socket = socket;
    this.#version = version;
    const packetParser = parser({ protocolVersion: version });
    packetParser.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    packetParser.on('error', () => undefined);
    socket.on('data', (chunk) => packetParser.parse(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      for (const wake of this.#waiters.splice(0)) wake();
      resolve();
    }));
  }

  static async open(port: number, version = 5): Promise<RawMqttClient> {
    const socket = connectSocket({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawMqttClient(socket, version);
  }

  /** Opens a connection and CONNECTs with `key` as the password. */
  static async connected(port: number, key: string, version = 5, keepalive = 60): Promise<RawMqttClient> {
    const client = await RawMqttClient.open(port, version);
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version as 4 | 5, clientId: 'raw', clean: true, keepalive, username: 'raw', password: Buffer.from(key) });
    const connack = await client.next('connack');
    const code = version === 5 ? (connack as { reasonCode?: number }).reasonCode : (connack as { returnCode?: number }).returnCode;
    if (code !== 0) throw new Error(`CONNECT refused: ${code}`);
    return client;
  }

  send(packet: Packet): boolean {
    return this.socket.write(generate(packet, { protocolVersion: this.#version }));
  }

  publish(topic: string, payload: string | Buffer, messageId = 1, qos: 0 | 1 | 2 = 1): boolean {
    return this.send({ cmd: 'publish', topic, payload, qos, messageId, dup: false, retain: false });
  }

  /** The next packet of this kind not yet taken (undefined if the connection closes first). */
  async next(cmd: Packet['cmd'], timeoutMs = 5000): Promise<Packet | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.packets.findIndex((packet) => packet.cmd === cmd);
      if (index >= 0) return this.packets.splice(index, 1)[0];
      if (this.socket.destroyed || this.socket.readableEnded) return undefined;
      if (Date.now() > deadline) throw new Error(`no ${cmd} within ${timeoutMs} ms`);
      await Promise.race([new Promise<void>((resolve) => this.#waiters.push(resolve)), sleep(50)]);
    }
  }

  /** Resolves true once the server has closed the connection, false after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    // The timer is cancelled once the connection closes: a pending one keeps the test's process alive.
    const timer = new AbortController();
    return Promise.race([
      this.closed.then(() => {
        timer.abort();
        return true;
      }),
      sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => false, () => true),
    ]);
  }

  end(): void {
    this.socket.destroy();
  }
}
