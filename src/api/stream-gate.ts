/**
 * Bounds the Server-Sent-Event streams one API process holds open. Each stream keeps a socket, a
 * bus subscription and (per evaluation) a slow storage poll; without a bound, a client opening
 * streams in a loop would wear down the server for everyone. Beyond the bound: 503 + Retry-After.
 */
import { unavailable } from '../domain/errors.js';

export class StreamGate {
  private open = 0;

  constructor(readonly max: number) {}

  /** Streams held open now. */
  get count(): number {
    return this.open;
  }

  /** Takes a place or throws the 503; the returned function gives it back (once). */
  enter(): () => void {
    if (this.open >= this.max) {
      throw unavailable('too_many_streams', `This server already holds ${this.max} event streams open (the maximum); close some or retry shortly.`, 5);
    }
    this.open++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.open--;
    };
  }
}
