import { DEVICE_PATTERN, UUID_PATTERN, type IngestJobData } from '@strata/core';


/**
 * Why a job payload cannot be projected, or undefined when it can. command-api only enqueues
 * validated events, so a bad payload means a foreign or corrupted job: it can never succeed and
 * goes straight to the dead-letter set instead of failing deep inside the projection statement.
 */
export function checkJobData(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return 'payload is not an object';
  const job = data as Partial<IngestJobData>;
  if (typeof job.batchId !== 'string' || !UUID_PATTERN.test(job.batchId)) return 'batchId is not a UUID';
  if (typeof job.acceptedAt !== 'number' || !Number.isFinite(job.acceptedAt)) return 'acceptedAt is not a number';
  if (!Array.isArray(job.events) || job.events.length === 0) return 'events is not a non-empty array';
  for (const [index, event] of job.events.entries()) {
    const problem = checkEvent(event);
    if (problem) return `events[${index}]: ${problem}`;
  }
  return undefined;
}

function checkEvent(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return 'not an object';
  const e = event as Record<string, unknown>;
  if (typeof e.tenantId !== 'string' || !UUID_PATTERN.test(e.tenantId)) return 'tenantId is not a UUID';
  if (typeof e.device !== 'string' || !DEVICE_PATTERN.test(e.device)) return 'device is invalid';
  if (typeof e.key !== 'string' || e.key === '') return 'key is missing';
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) return 'ts is not a number';
  if (typeof e.type !== 'string' || e.type === '') return 'type is missing';
  if (typeof e.values !== 'object' || e.values === null || Array.isArray(e.values)) return 'values is not an object';
  return undefined;
}
