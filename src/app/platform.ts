/**
 * Wires a Crucible process together from its configuration: picks the storage, queue and bus
 * adapters (embedded or scale-out), the sandbox backends, and builds the use cases on top. This
 * is the only place that knows which adapter is behind which port.
 */
import type { Logger as PinoLogger } from 'pino';
import type { EventBus } from '../events/types.js';
import type { JobQueue } from '../queue/types.js';
import { closeSandboxBackends, createSandboxBackends } from '../sandbox/index.js';
import type { SandboxBackends } from '../sandbox/types.js';
import type { EvaluationStore } from '../storage/types.js';
import { openEmbeddedAdapters, openScaleOutAdapters, type Adapters } from './adapters.js';
import { isEmbedded, type PlatformConfig } from './config.js';
import { EvaluationService } from './evaluation-service.js';
import { EventPublisher } from './event-publisher.js';
import { Reaper } from './reaper.js';

export interface Platform {
  config: PlatformConfig;
  store: EvaluationStore;
  queue: JobQueue;
  bus: EventBus;
  sandboxes: SandboxBackends;
  publisher: EventPublisher;
  service: EvaluationService;
  reaper: Reaper;
  log: PinoLogger;
  close(): Promise<void>;
}

export async function openPlatform(config: PlatformConfig, log: PinoLogger): Promise<Platform> {
  const cleanups: Adapters['cleanups'] = [];
  try {
    const { store, queue, bus } = isEmbedded(config) ? await openEmbeddedAdapters(config, cleanups) : await openScaleOutAdapters(config, cleanups);
    // Warm sandboxes only where programs run: an API-only instance needs one now and then (syntax checks).
    const sandboxes = await createSandboxBackends({ enabled: config.sandboxes, log, warm: config.workers > 0 });
    cleanups.push(() => closeSandboxBackends(sandboxes));
    const publisher = new EventPublisher(bus, log);
    const service = new EvaluationService(
      { store, queue, bus, publisher, log },
      { maxQueueDepth: config.maxQueueDepth, cancelGraceMs: config.cancelGraceMs, livenessWindowMs: config.livenessWindowMs },
    );
    const reaper = new Reaper(
      { store, queue, publisher, log },
      { livenessWindowMs: config.livenessWindowMs, maxAttempts: config.maxAttempts, requeueAfterMs: Math.max(5_000, config.livenessWindowMs) },
    );
    let closed = false;
    return {
      config, store, queue, bus, sandboxes, publisher, service, reaper, log,
      async close() {
        if (closed) return;
        closed = true;
        await reaper.stop();
        await runCleanups(cleanups, log);
      },
    };
  } catch (err) {
    await runCleanups(cleanups, log);
    throw err;
  }
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>, log: PinoLogger): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      log.warn({ err: String(err) }, 'shutdown step failed');
    }
  }
}
