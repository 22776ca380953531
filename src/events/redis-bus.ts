/**
 * EventBus over Redis pub/sub, for several API and worker processes. Two connections per process:
 * one publishes, one subscribes to every channel this process listens to (SUBSCRIBE is sent for a
 * channel's first listener, UNSUBSCRIBE after its last, so Redis only sends what someone here
 * wants).
 *
 * Outages: publishing fails fast while Redis is unreachable (no offline buffer that would grow
 * and deliver stale notifications later); publishers treat the bus as best effort. The subscriber
 * reconnects on its own and, on every `ready`, subscribes again to all channels that still have
 * listeners. Messages published during the gap are lost, which is fine: the event log in storage
 * is the record and subscribers catch up from it.
 */
import { Redis } from 'ioredis';
import type { EventBus, Subscription } from '../ports/bus.js';

export interface RedisBusOptions {
  url: string;
  /** Channel prefix: isolates deployments sharing one Redis. */
  prefix?: string;
  /** Base of the connection names shown by CLIENT LIST (`<name>-pub`, `<name>-sub`). */
  connectionName?: string;
  /** Bound on publish/subscribe/ping round trips. */
  timeoutMs?: number;
  /** Connection errors and subscriber exceptions (default: process warning). */
  onError?: (err: unknown) => void;
}

type Listener = (payload: string) => void;

export function createRedisBus(options: RedisBusOptions): EventBus {
  return new RedisBus(options);
}

class RedisBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly onError: (err: unknown) => void;
  private closed = false;

  constructor(options: RedisBusOptions) {
    this.prefix = options.prefix ? `${options.prefix}:` : '';
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.onError = options.onError ?? ((err) => process.emitWarning(`redis bus: ${String(err)}`));
    const name = options.connectionName ?? 'crucible-bus';
    this.publisher = new Redis(options.url, {
      connectionName: `${name}-pub`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.timeoutMs,
    });
    this.subscriber = new Redis(options.url, {
      connectionName: `${name}-sub`,
      // We resubscribe ourselves from the listener map (see onReady), which is the truth.
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      connectTimeout: this.timeoutMs,
    });
    this.publisher.on('error', this.onError);
    this.subscriber.on('error', this.onError);
    this.subscriber.on('ready', () => this.onReady());
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
  }

  async publish(channel: string, payload: string): Promise<void> {
    this.assertOpen();
    await this.publisherReady();
    await this.bounded('publish', this.publisher.publish(this.prefix + channel, payload));
  }

  async subscribe(channel: string, onMessage: (payload: string) => void): Promise<Subscription> {
    this.assertOpen();
    const key = this.prefix + channel;
    const listener: Listener = (payload) => onMessage(payload);
    let set = this.listeners.get(key);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    const subscription: Subscription = { unsubscribe: () => this.remove(key, listener) };
    if (first) {
      try {
        await this.bounded('subscribe', this.subscriber.subscribe(key));
      } catch (err) {
        await subscription.unsubscribe().catch(() => {});
        throw err;
      }
    }
    return subscription;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.publisherReady();
    await this.bounded('ping', this.publisher.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  private async remove(key: string, listener: Listener): Promise<void> {
    const set = this.listeners.get(key);
    if (!set || !set.delete(listener)) return;
    if (set.size > 0) return;
    this.listeners.delete(key);
    if (this.closed || this.subscriber.status !== 'ready') return; // nothing to undo on the server
    await this.bounded('unsubscribe', this.subscriber.unsubscribe(key)).catch(this.onError);
  }

  private onReady(): void {
    const channels = [...this.listeners.keys()];
    if (channels.length === 0) return;
    this.subscriber.subscribe(...channels).catch(this.onError);
  }

  /** Waits (bounded) for the publisher to be connected: at start-up, or while it reconnects. */
  private async publisherReady(): Promise<void> {
    if (this.publisher.status === 'ready') return;
    let onReady: (() => void) | undefined;
    try {
      await this.bounded(
        'connect',
        new Promise<void>((resolve) => {
          onReady = resolve;
          this.publisher.once('ready', onReady);
        }),
      );
    } finally {
      if (onReady) this.publisher.off('ready', onReady);
    }
  }

  private deliver(channel: string, message: string): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(message);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event bus is closed');
  }

  private async bounded<T>(what: string, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis bus ${what}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
