import { readFile } from 'node:fs/promises';
import type { Pool, Redis } from '@strata/core';

/** % of one core per component over a phase; `machine` is the whole machine's busy time (200 = two cores). */
export type ComponentCpu = Record<string, number>;

/** The bench process's own row: on two cores the generator competes with what it measures. */
export const GENERATOR = 'generator (bench)';

/**
 * USER_HZ, the unit of /proc's CPU times: 100 on every Linux kernel Node.js runs on (x86_64, arm64),
 * whatever the kernel's own tick rate.
 */
export const TICKS_PER_SECOND = 100;

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
  /** The command name (field 2): `postgres` for every process of a PostgreSQL server. */
  command: string;
  /** The parent's pid. */
  parent: number;
  /** utime + stime, in ticks. */
  ticks: number;
  /** cutime + cstime: the CPU of its children that have ended and been waited for, in ticks. */
  childTicks: number;
  /** Ticks after boot at which the process started. */
  startedAt: number;
}

/** A process as last sampled: a pid is reused by another process, so it is known by pid and start. */
interface Seen {
  component: string;
  startedAt: number;
  ticks: number;
  postgres: boolean;
}

/**
 * Where a phase's CPU went, process by process: the four services, each PostgreSQL backend by the pool
 * it serves, PostgreSQL's own processes, Redis and the generator itself, beside the machine's total.
 * On two cores "single events are slower" means little until it says who took the cores meanwhile
 * (2026-12-03: single events 30 % lower after a refresher change that left the hot path alone).
 * Samples once a second. A process that starts during the phase counts from its start. PostgreSQL's
 * processes that end during it (a parallel worker, a pool's closed connection) are counted whole from
 * the postmaster's children's CPU (`pg ended processes`), less what the samples already counted of
 * them; any other process that ends loses its last second. Needs the server's processes on this
 * machine and in its pid namespace (/proc); a remote or containerised server's backends are not found
 * (a pid whose command is not `postgres` is skipped), and only the machine, the services and Redis are
 * reported. `machine` is the machine's busy time inside this VM; `steal` (time the hypervisor gave to
 * others) is its own row, and `kernel interrupts` (irq and softirq: loopback networking) belongs to no
 * process.
 */
export class ComponentCpuSampler {
  readonly #db: Pool;
  readonly #redis: Redis;
  readonly #services: Record<string, number | undefined>;
  readonly #seen = new Map<number, Seen>();
  readonly #ticks = new Map<string, number>();
  /** Of PostgreSQL processes that ended: the ticks the samples had counted of them, whole. */
  #endedSeenTicks = 0;
  #postmaster: { pid: number; startedAt: number; ticks: number; childTicks: number } | undefined;
  #postmasterAtEnd: ProcTimes | undefined;
  #startedAtTicks = 0;
  #wallStartMs = 0;
  #machineStart: MachineTicks = { busy: 0, steal: 0, interrupts: 0 };
  #redisStart: number | undefined;
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
    sampler.#machineStart = await machineTicks();
    sampler.#redisStart = await redisCpuSeconds(redis);
    await sampler.#sample();
    sampler.#timer = setInterval(() => {
      // A sample that fails (a file or a server gone) is skipped; the next one catches up.
      sampler.#sampling = sampler.#sampling.then(() => sampler.#sample()).catch(() => {});
    }, intervalMs);
    sampler.#timer.unref();
    return sampler;
  }

  /** The last sample, then % of a core per component since start(), largest first. */
  async stop(): Promise<ComponentCpu> {
    clearInterval(this.#timer);
    await this.#sampling;
    await this.#sample().catch(() => {});
    const seconds = (performance.now() - this.#wallStartMs) / 1000;
    const percent = (ticks: number): number => Math.round((ticks / TICKS_PER_SECOND / seconds) * 1000) / 10;
    const machine = await machineTicks();
    const out: ComponentCpu = {
      machine: percent(machine.busy - this.#machineStart.busy),
      steal: percent(machine.steal - this.#machineStart.steal),
      'kernel interrupts': percent(machine.interrupts - this.#machineStart.interrupts),
    };
    const redisEnd = await redisCpuSeconds(this.#redis);
    if (this.#redisStart !== undefined && redisEnd !== undefined) out.redis = Math.round(((redisEnd - this.#redisStart) / seconds) * 1000) / 10;
    const start = this.#postmaster;
    const end = this.#postmasterAtEnd;
    if (start && end && end.startedAt === start.startedAt) {
      this.#add('pg postmaster', end.ticks - start.ticks);
      // Every child that ended is in the postmaster's children's CPU, whole; the samples counted part
      // of those they saw, from their first sample on, and what they used before it is not the phase's.
      this.#add('pg ended processes', Math.max(0, end.childTicks - start.childTicks - this.#endedSeenTicks));
    }
    const sorted = [...this.#ticks].sort((a, b) => b[1] - a[1]);
    for (const [component, ticks] of sorted) out[component] = percent(ticks);
    return out;
  }

  #add(component: string, ticks: number): void {
    this.#ticks.set(component, (this.#ticks.get(component) ?? 0) + ticks);
  }

  async #sample(): Promise<void> {
    const components = new Map<number, { component: string; postgres: boolean }>();
    for (const [name, pid] of Object.entries(this.#services)) if (pid !== undefined) components.set(pid, { component: name, postgres: false });
    components.set(process.pid, { component: GENERATOR, postgres: false });
    // A failed look-up (a restarting server) skips this sample's backends; they are not taken for ended.
    const backends = await this.#db.query<{ pid: number; component: string }>(SELECT_BACKENDS).catch(() => undefined);
    const rows = backends?.rows ?? [];
    for (const { pid, component } of rows) components.set(pid, { component, postgres: true });
    const live = new Set<number>();
    const parents = new Set<number>();
    await Promise.all(
      [...components].map(async ([pid, { component, postgres }]) => {
        const times = await procTimes(pid);
        // A PostgreSQL pid that is no postgres process here belongs to another machine or namespace.
        if (!times || (postgres && times.command !== 'postgres')) return;
        live.add(pid);
        const seen = this.#seen.get(pid);
        const same = seen !== undefined && seen.startedAt === times.startedAt;
        // First seen: a process born during the phase counts from its start, an older one from now.
        const before = same ? seen.ticks : times.startedAt >= this.#startedAtTicks ? 0 : times.ticks;
        this.#seen.set(pid, { component, startedAt: times.startedAt, ticks: times.ticks, postgres });
        this.#add(component, times.ticks - before);
        if (postgres) parents.add(times.parent);
      }),
    );
    // Every PostgreSQL process's parent is the postmaster.
    const [postmaster] = parents;
    if (postmaster !== undefined) await this.#notePostmaster(postmaster);
    for (const [pid, seen] of this.#seen) {
      if (live.has(pid) || (seen.postgres && !backends)) continue;
      this.#seen.delete(pid);
      if (seen.postgres) this.#endedSeenTicks += seen.ticks;
    }
  }

  /** The postmaster (every backend's parent): its own CPU and its ended children's, first and last. */
  async #notePostmaster(pid: number): Promise<void> {
    if (this.#postmaster && this.#postmaster.pid !== pid) return;
    const times = await procTimes(pid);
    if (!times || times.command !== 'postgres') return;
    this.#postmaster ??= { pid, startedAt: times.startedAt, ticks: times.ticks, childTicks: times.childTicks };
    this.#postmasterAtEnd = times;
  }
}

/** A process's CPU ticks and start from /proc/<pid>/stat; undefined if it is gone or not on this machine. */
export async function procTimes(pid: number): Promise<ProcTimes | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // Fields 4 (ppid), 14–17 (utime, stime, cutime, cstime) and 22 (starttime) of proc(5), here from field 3.
  return {
    command: stat.slice(stat.indexOf('(') + 1, close),
    parent: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    childTicks: Number(fields[13]) + Number(fields[14]),
    startedAt: Number(fields[19]),
  };
}

interface MachineTicks {
  /** Every core's time in user and kernel mode, interrupts included: busy inside this VM. */
  busy: number;
  /** Time the hypervisor ran others while this VM wanted a core: not busy here, reported apart. */
  steal: number;
  /** irq + softirq (part of busy): loopback networking, charged to no process. */
  interrupts: number;
}

/** The machine's ticks since boot, all cores (/proc/stat's first line). */
async function machineTicks(): Promise<MachineTicks> {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return { busy: user + nice + system + irq + softirq, steal, interrupts: irq + softirq };
}

async function uptimeTicks(): Promise<number> {
  return Math.floor(Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]) * TICKS_PER_SECOND);
}

/**
 * The Redis server's own CPU seconds (INFO cpu): works for a server on another machine too. Undefined
 * when it cannot be read: the phase's other numbers stand without it. The queue's server only; a
 * separate cache server (CACHE_REDIS_URL) is not counted.
 */
async function redisCpuSeconds(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('cpu').catch(() => undefined);
  if (info === undefined) return undefined;
  const field = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}
