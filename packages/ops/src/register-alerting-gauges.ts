import { Gauge, type Registry } from 'prom-client';
import type { Pool } from '@strata/core';
import { partitionDay } from './partitions/partition-day.ts';
import { countAggregateNotes } from './queries/count-aggregate-notes.ts';
import { countStagingBacklog } from './queries/count-staging-backlog.ts';
import { listEventPartitions } from './queries/list-event-partitions.ts';

export interface AlertingGaugeSources {
  registry: Registry;
  pool: Pool;
  /** Runs a read, leaving the gauge unset for this scrape when its source fails. */
  safely(metric: string, read: () => Promise<void>): Promise<void>;
}

/**
 * Facts the shipped alerting rules (deploy/prometheus/alerts.yml) need that no counter can give:
 * each is read from the shared database at scrape time, so a stuck projector, refresher or
 * retention job shows even when the process that should do the work is gone or restarted.
 */
export function registerAlertingGauges({ registry, pool, safely }: AlertingGaugeSources): void {
  new Gauge({
    name: 'strata_staging_oldest_event_age_seconds',
    help: 'Age of the oldest accepted event still in staging (0 when staging is empty): how stale the slowest acknowledged event is',
    registers: [registry],
    async collect() {
      await safely('strata_staging_oldest_event_age_seconds', async () => {
        this.set(((await countStagingBacklog(pool)).oldestAgeMs ?? 0) / 1000);
      });
    },
  });
  new Gauge({
    name: 'strata_aggregate_pending_notes',
    help: 'Noted (tenant, minute) pairs whose rollups and counters the aggregate refresher has not recomputed yet',
    registers: [registry],
    async collect() {
      await safely('strata_aggregate_pending_notes', async () => this.set(await countAggregateNotes(pool)));
    },
  });
  new Gauge({
    name: 'strata_event_partitions_oldest_day_timestamp_seconds',
    help: 'Start (UTC midnight, Unix seconds) of the oldest daily event partition attached; retention keeps it within RETENTION_DAYS',
    registers: [registry],
    async collect() {
      await safely('strata_event_partitions_oldest_day_timestamp_seconds', async () => {
        const days = (await listEventPartitions(pool)).map((partition) => partitionDay(partition.name)).filter((day) => day !== undefined);
        // No daily partition at all leaves the gauge without a sample: partitions-missing covers that.
        if (days.length === 0) return this.reset();
        this.set(Date.parse(`${days.sort()[0]}T00:00:00Z`) / 1000);
      });
    },
  });
}
