export { createBullmqQueue, type BullmqQueueOptions } from './bullmq-queue.js';
export { createEmbeddedQueue, type EmbeddedQueueOptions, type EmbeddedQueueSource } from './embedded-queue.js';
export { DEFAULT_RETRY_POLICY, type ConsumeOptions, type JobQueue, type QueueConsumer, type QueueJob, type QueueRetryPolicy } from './types.js';
