export { createMemoryBus, type MemoryBusOptions } from './memory-bus.js';
export { createRedisBus, type RedisBusOptions } from './redis-bus.js';
