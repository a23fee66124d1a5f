import { aggregateRetentionJob } from './aggregate-retention-job.ts';
import type { MaintenanceJob } from './maintenance-job.ts';
import { partitionAnalyzeJob } from './partition-analyze-job.ts';
import { partitionDefaultMoveJob } from './partition-default-move-job.ts';
import { partitionPremakeJob } from './partition-premake-job.ts';
import { partitionRetentionJob } from './partition-retention-job.ts';

/** Every scheduled job the ops service runs. */
export const maintenanceJobs: MaintenanceJob[] = [partitionDefaultMoveJob, partitionPremakeJob, partitionRetentionJob, aggregateRetentionJob, partitionAnalyzeJob];
