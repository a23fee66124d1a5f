import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceProcess } from './start-service-process.ts';

/** Polls `url` until it answers 200, or fails with the process's output (at once if it exits). */
export async function waitUntilReady(url: string, service: ServiceProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!service.running) throw new Error(`${service.name} exited early:\n${service.output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`${service.name} not ready at ${url} (${last}):\n${service.output()}`);
}
