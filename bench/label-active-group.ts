import { DEVICES } from './measure-batch-ingest.ts';
import type { BenchStack } from './start-bench-stack.ts';

/** The group whose members send while it is read: every tenth device of the batch phases' 10k. */
export const ACTIVE_LABEL = 'zone';
/**
 * Run n's group is `zone=active-n`: its members join it once, as a real group's do. One value for every
 * run gave each member a new version per run, and `devices` of the held hour probes every version
 * overlapping it (runs 2 and 3 of aa974c8: p50 187 and 151 ms against run 1's 49 ms).
 */
export function activeLabelValue(run: number): string {
  return `active-${run}`;
}
/** The value the batch bodies carry (event-bodies.ts). */
export const ACTIVE_VALUE_KEY = 'temp';

/**
 * Labels d-0, d-10, …, d-9990 (1,000 devices) `zone=active-<run>` through `PUT /v1/devices/:device/labels`
 * (`member` true), as an operator or a provisioning tool would, 8 requests at a time, or takes every
 * label off them again (false). While they are labelled, the group reads' background ingest (batches
 * over the 10k devices) sends a tenth of its events to this group's members, so its series ending now
 * has members sending in the noted minutes: the live edge of an active group, which decision 0084
 * leaves as costly as before (the `fleet=bench` group's members are idle while it is read). The group
 * phase takes the labels off at its end, so the other phases (and the next run's batches) meet
 * unlabelled devices, as they always did.
 */
export async function labelActiveGroup(stack: BenchStack, run: number, member: boolean): Promise<void> {
  const devices = Array.from({ length: DEVICES / 10 }, (_, k) => `d-${k * 10}`);
  const body = JSON.stringify({ labels: member ? { [ACTIVE_LABEL]: activeLabelValue(run) } : {} });
  const failures: string[] = [];
  let next = 0;
  const put = (device: string) =>
    fetch(`${stack.urls['command-api']}/v1/devices/${device}/labels`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body,
    });
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const device = devices[next++] as string;
      let response = await put(device);
      // 503 while the refresher writes the tenant's labels (it folds events' labels): retry, as a client does.
      for (let attempt = 1; response.status === 503 && attempt <= 20; attempt++) {
        await response.text();
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        response = await put(device);
      }
      if (!response.ok) failures.push(`${device}: ${response.status} ${await response.text()}`);
      else await response.text();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (failures.length > 0) throw new Error(`labelling the active group: ${failures.length} refused, first ${failures[0]}`);
}
