import { readFile } from 'node:fs/promises';
import type { Pool, Redis } from '@strata/core';

/** % of one core per component over a phase; `machine` is the whole machine's busy time (200 = two cores). */
export type ComponentCpu = Record<string, number>;

/**
 * USER_HZ, the unit of /proc's CPU times: 100 on every Linux kernel Node.js runs on (x86_64, arm64),
 * whatever the kernel's own tick rate.
 */
const TICKS_PER_SECOND = 100;

// Every server process of the measured PostgreSQL, named by who it works for: a client backend by its
// application name (the refresher and the probes share `strata-projector`; drains have their own
// pool), a background process by its kind. Processes of other databases on the server count too:
// the bench wants the machine to itself.
const SELECT_BACKENDS = `
  SELECT pid,
         CASE
           WHEN backend_type <> 'client backend' THEN 'pg ' || backend_type
           WHEN application_name LIKE 'strata-%' THEN 'pg ' || application_name
           ELSE 'pg other clients'
         END AS component
    FROM pg_stat_activity`;

interface ProcTimes {
  /** utime + stime, in ticks. */
  ticks: number;
  /** Ticks after boot at which the process started. */
  startedAt: number;
}

/**
 * Where a phase's CPU went, process by process: the four services, each PostgreSQL backend by the pool
 * it serves, autovacuum, the WAL writer and checkpointer, Redis and the generator itself, beside the
 * machine's total. On two cores "single events are slower" means little until it says who took the
 * cores meanwhile (2026-12-03: single events 30 % lower after a refresher change that left the hot path
 * alone). Samples once a second: a backend that ends between two samples loses at most its last second,
 * one that starts during the phase counts from its start. Needs the server's processes on this machine
 * (/proc); a remote server's backends are simply not found, and only the machine's total, the services
 * and Redis are reported.
 */
export class ComponentCpuSampler {
  readonly #db: Pool;
  readonly #redis: Redis;
  readonly #services: Record<string, number | undefined>;
  readonly #last = new Map<number, number>();
  readonly #ticks = new Map<string, number>();
  #startedAtTicks = 0;
  #wallStartMs = 0;
  #machineStart = 0;
  #redisStart = 0;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();

  private constructor(db: Pool, redis: Redis, services: Record<string, number | undefined>) {
    this.#db = db;
    this.#redis = redis;
    this.#services = services;
  }

  /** Takes the first sample and samples every `intervalMs` until stop(). */
  static async start(db: Pool, redis: Redis, services: Record<string, number | undefined>, intervalMs = 1000): Promise<ComponentCpuSampler> {
    const sampler = new ComponentCpuSampler(db, redis, services);
    sampler.#wallStartMs = performance.now();
    sampler.#startedAtTicks = await uptimeTicks();
    sampler.#machineStart = await machineBusyTicks();
    sampler.#redisStart = await redisCpuSeconds(redis);
    await sampler.#sample();
    sampler.#timer = setInterval(() => {
      sampler.#sampling = sampler.#sampling.then(() => sampler.#sample());
    }, intervalMs);
    return sampler;
  }

  /** The last sample, then % of a core per component since start(), largest first. */
  async stop(): Promise<ComponentCpu> {
    clearInterval(this.#timer);
    await this.#sampling;
    await this.#sample();
    const seconds = (performance.now() - this.#wallStartMs) / 1000;
    const percent = (ticks: number): number => Math.round((ticks / TICKS_PER_SECOND / seconds) * 1000) / 10;
    const out: ComponentCpu = { machine: percent((await machineBusyTicks()) - this.#machineStart) };
    out.redis = Math.round((((await redisCpuSeconds(this.#redis)) - this.#redisStart) / seconds) * 1000) / 10;
    const sorted = [...this.#ticks].sort((a, b) => b[1] - a[1]);
    for (const [component, ticks] of sorted) out[component] = percent(ticks);
    return out;
  }

  async #sample(): Promise<void> {
    const components = new Map<number, string>();
    for (const [name, pid] of Object.entries(this.#services)) if (pid !== undefined) components.set(pid, name);
    components.set(process.pid, 'generator (bench)');
    // A failed look-up (a restarting server) only skips this sample's new backends.
    const { rows } = await this.#db.query<{ pid: number; component: string }>(SELECT_BACKENDS).catch(() => ({ rows: [] }));
    for (const { pid, component } of rows) components.set(pid, component);
    await Promise.all(
      [...components].map(async ([pid, component]) => {
        const times = await procTimes(pid);
        if (!times) return;
        // First seen: a process born during the phase counts from its start, an older one from now.
        const before = this.#last.get(pid) ?? (times.startedAt >= this.#startedAtTicks ? 0 : times.ticks);
        this.#last.set(pid, times.ticks);
        this.#ticks.set(component, (this.#ticks.get(component) ?? 0) + times.ticks - before);
      }),
    );
  }
}

/** A process's CPU ticks and start from /proc/<pid>/stat; undefined if it is gone or not on this machine. */
async function procTimes(pid: number): Promise<ProcTimes | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime), 15 (stime) and 22 (starttime) of proc(5), here from field 3.
  return { ticks: Number(fields[11]) + Number(fields[12]), startedAt: Number(fields[19]) };
}

/** Busy ticks of all cores since boot: everything but idle and iowait. */
async function machineBusyTicks(): Promise<number> {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return user + nice + system + irq + softirq + steal;
}

async function uptimeTicks(): Promise<number> {
  return Math.floor(Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]) * TICKS_PER_SECOND);
}

/** The Redis server's own CPU seconds (INFO cpu): works for a server on another machine too. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}
