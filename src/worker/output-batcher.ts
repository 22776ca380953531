/**
 * Coalesces a running program's output and resource samples into a few events: one storage write
 * per flush instead of one per chunk, so a chatty program cannot hammer the database, while
 * watchers still see output within a fraction of a second.
 */
import type { MetricsSample, NewEvaluationEvent } from '../domain/events.js';

export class OutputBatcher {
  private stdout = '';
  private stderr = '';
  private sample: MetricsSample | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flushEvery: number,
    private readonly maxPendingChars: number,
    private readonly onFlush: (events: NewEvaluationEvent[]) => void,
  ) {}

  addStdout(text: string): void {
    this.stdout += text;
    this.schedule();
  }

  addStderr(text: string): void {
    this.stderr += text;
    this.schedule();
  }

  addSample(sample: MetricsSample): void {
    this.sample = sample;
    this.schedule();
  }

  /** Takes what is pending (e.g. to append it with the final transition) without flushing it. */
  drain(): NewEvaluationEvent[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const at = new Date().toISOString();
    const events: NewEvaluationEvent[] = [];
    if (this.stdout) events.push({ type: 'stdout', at, data: { text: this.stdout } });
    if (this.stderr) events.push({ type: 'stderr', at, data: { text: this.stderr } });
    if (this.sample) events.push({ type: 'metrics', at, data: this.sample });
    this.stdout = '';
    this.stderr = '';
    this.sample = null;
    return events;
  }

  private schedule(): void {
    if (this.stdout.length + this.stderr.length >= this.maxPendingChars) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.flushEvery);
  }

  private flush(): void {
    const events = this.drain();
    if (events.length) this.onFlush(events);
  }
}
