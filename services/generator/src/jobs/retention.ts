/**
 * How long BullMQ keeps finished jobs, for every queue the generator uses: a
 * completed job at most an hour and never more than the last 20, a failed one a
 * day (to read why) and never more than the last 100. With the queues' event
 * streams capped by BullMQ (10,000 entries), no job key grows without bound
 * (docs/OPERATIONS.md lists every key family).
 */
import type { KeepJobs } from 'bullmq'

export const KEEP_COMPLETED: KeepJobs = { age: 3600, count: 20 }
export const KEEP_FAILED: KeepJobs = { age: 24 * 3600, count: 100 }
