/**
 * In-process EventBus for the embedded default. Delivery is asynchronous (a microtask after
 * publish), like a real bus, so a subscriber never runs inside the publisher's call stack and a
 * throwing subscriber cannot break the publisher or other subscribers. Unsubscribing removes the
 * listener and, with the last one, the channel: nothing accumulates.
 */
import type { EventBus, Subscription } from '../ports/bus.js';

type Listener = (payload: string) => void;

export interface MemoryBusOptions {
  /** Where subscriber exceptions are reported (default: process warning). */
  onError?: (err: unknown) => void;
}

export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const channels = new Map<string, Set<Listener>>();
  const onError = options.onError ?? ((err) => process.emitWarning(`memory bus subscriber failed: ${String(err)}`));
  let closed = false;

  return {
    async publish(channel, payload) {
      if (closed) throw new Error('event bus is closed');
      const listeners = channels.get(channel);
      if (!listeners || listeners.size === 0) return;
      const snapshot = [...listeners];
      queueMicrotask(() => {
        for (const listener of snapshot) {
          // Unsubscribed between publish and delivery: skip, as a real bus would.
          if (!listeners.has(listener)) continue;
          try {
            listener(payload);
          } catch (err) {
            onError(err);
          }
        }
      });
    },

    async subscribe(channel, onMessage): Promise<Subscription> {
      if (closed) throw new Error('event bus is closed');
      // Wrap so subscribing the same function twice yields two independent subscriptions.
      const listener: Listener = (payload) => onMessage(payload);
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
      }
      listeners.add(listener);
      return {
        async unsubscribe() {
          const current = channels.get(channel);
          if (!current) return;
          current.delete(listener);
          if (current.size === 0) channels.delete(channel);
        },
      };
    },

    async ping() {
      if (closed) throw new Error('event bus is closed');
    },

    async close() {
      closed = true;
      channels.clear();
    },
  };
}
