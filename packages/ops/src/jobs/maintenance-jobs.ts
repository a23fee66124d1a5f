import type { MaintenanceJob } from './maintenance-job.ts';
import { partitionPremakeJob } from './partition-premake-job.ts';
import { partitionRetentionJob } from './partition-retention-job.ts';

/** Every scheduled job the ops service runs. */
export const maintenanceJobs: MaintenanceJob[] = [partitionPremakeJob, partitionRetentionJob];
