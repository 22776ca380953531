/** Live status changes of every evaluation (dashboards, history views), as the lifecycle publishes them. */
import type { StatusChange } from '../domain/events.js';
import { channels, type EventBus, type Subscription } from '../ports/bus.js';

export class StatusFeed {
  constructor(private readonly bus: EventBus) {}

  subscribe(onChange: (change: StatusChange) => void): Promise<Subscription> {
    return this.bus.subscribe(channels.statusFeed, (payload) => {
      try {
        onChange(JSON.parse(payload) as StatusChange);
      } catch {
        // A malformed message on the bus is not worth a client's stream.
      }
    });
  }
}
