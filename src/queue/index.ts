export { createBullmqQueue, type BullmqQueueOptions } from './bullmq-queue.js';
export { createEmbeddedQueue, type EmbeddedQueueOptions, type EmbeddedQueueSource } from './embedded-queue.js';
