/** A one-line progress indicator on stderr, shown only on a terminal (never garbles piped output). */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Spinner {
  private timer: NodeJS.Timeout | null = null;
  private frame = 0;
  private text = '';
  private readonly enabled = Boolean(process.stderr.isTTY);

  update(text: string): void {
    this.text = text;
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.draw(), 80);
  }

  private draw(): void {
    process.stderr.write(`\r\x1b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.text}`);
  }

  /** Clears the line so normal output can follow. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}
