// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes } from '../lib/format';
import { appendOutput, NO_OUTPUT, outputFromString, type OutputText } from '../lib/output-text';
import { TerminalLog } from '../lib/terminal-log';
import { OutputPane } from './OutputPane';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const pane = (output: OutputText, height?: number) => <OutputPane title="stdout" output={output} truncated={false} emptyText="none" height={height} />;

/** The text of each rendered line, without its line number. */
const shownLines = (container: HTMLElement) => [...container.querySelectorAll('.output-line .lt')].map((l) => l.textContent);

describe('OutputPane', () => {
  it('renders program output as text, never as HTML, and drops escapes', () => {
    const evil = '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">\n\u001b[31mred\u001b[0m\n\u001b]0;title\u0007\u001b(B\u001b[?25lok\n';
    const { container } = render(pane(outputFromString(evil)));
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img')).toBeNull();
    expect(container.textContent).toContain('<script>window.__pwned = 1</script>');
    expect(container.textContent).not.toContain('\u001b');
    expect(shownLines(container)[2]).toBe('ok');
    const red = screen.getByText('red');
    expect(red.className).toBe('ansi-fg-1');
  });

  it('keeps colour across lines until a reset', () => {
    const { container } = render(pane(outputFromString('\u001b[31mred\nstill red\u001b[0m\nplain\n')));
    expect(screen.getByText('still red').className).toBe('ansi-fg-1');
    expect(screen.getByText('plain').className).toBe('');
    expect(shownLines(container)).toEqual(['red', 'still red', 'plain']);
  });

  it('follows streamed chunks, even one that splits an escape sequence', () => {
    let output = appendOutput(NO_OUTPUT, 'a\u001b[3');
    const { container, rerender } = render(pane(output));
    expect(shownLines(container)).toEqual(['a']); // the half escape is held back, not shown
    output = appendOutput(output, '1mred\nstill');
    rerender(pane(output));
    output = appendOutput(output, ' red\u001b[0m done\n');
    rerender(pane(output));
    expect(shownLines(container)).toEqual(['ared', 'still red done']);
    expect(screen.getByText('still red').className).toBe('ansi-fg-1');
    expect(screen.getByText('done').className).toBe('');
  });

  it('shows a progress bar redrawn with \\r in its latest state, across chunks', () => {
    let output = outputFromString('epoch 1\n');
    const { container, rerender } = render(pane(output));
    for (const step of ['\r 10%|#         |', '\r 50%|#####     |', '\r100%|##########|']) {
      output = appendOutput(output, step);
      rerender(pane(output));
      expect(shownLines(container)).toEqual(['epoch 1', step.slice(1)]);
    }
    output = appendOutput(output, '\r\n');
    rerender(pane(output));
    expect(shownLines(container)).toEqual(['epoch 1', '100%|##########|']);
    expect(screen.getByTestId('stdout-stats').textContent).toContain('2 lines');
  });

  it('reads each chunk once while streaming, and starts over for another output', () => {
    const write = vi.spyOn(TerminalLog.prototype, 'write');
    let output = NO_OUTPUT;
    const { container, rerender } = render(pane(output));
    for (let i = 0; i < 50; i++) {
      output = appendOutput(output, `line ${i}\n`);
      rerender(pane(output));
    }
    expect(write).toHaveBeenCalledTimes(50);
    rerender(pane(outputFromString('another run\n')));
    expect(write).toHaveBeenCalledTimes(51);
    expect(shownLines(container)).toEqual(['another run']);
  });

  it('renders only a window of a very large output', () => {
    let output = NO_OUTPUT;
    for (let c = 0; c < 100; c++) output = appendOutput(output, Array.from({ length: 500 }, (_, i) => `line ${c * 500 + i}\n`).join(''));
    const { container } = render(pane(output, 200));
    const rendered = container.querySelectorAll('.output-line').length;
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(200);
    expect(screen.getByTestId('stdout-stats').textContent).toContain('50,000 lines');
    expect(screen.getByTestId('stdout-stats').textContent).toContain(formatBytes(output.bytes));
  });

  it('shows a truncation marker with the limit', () => {
    render(<OutputPane title="stderr" tone="stderr" output={outputFromString('a\nb\n')} truncated limitBytes={1024} emptyText="none" />);
    expect(screen.getByRole('note').textContent).toContain('first 1 KiB of stderr');
    expect(screen.getByText('truncated')).toBeTruthy();
  });

  it('clips absurdly long lines', () => {
    const { container } = render(pane(outputFromString('x'.repeat(10_000))));
    expect(container.textContent).toContain('6,000 more characters');
  });

  it('shows the empty text with no output', () => {
    render(<OutputPane title="stdout" output={NO_OUTPUT} truncated={false} emptyText="Waiting for output…" />);
    expect(screen.getByText('Waiting for output…')).toBeTruthy();
  });

  it('does not count a final newline as an extra line', () => {
    const { container } = render(pane(outputFromString('a\n\nb\n')));
    expect(shownLines(container)).toEqual(['a', '\u200b', 'b']);
    expect(screen.getByTestId('stdout-stats').textContent).toContain('3 lines');
  });

  it('copies the text as shown with Copy, and the raw output with Raw', async () => {
    const writes: string[] = [];
    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText: async (t: string) => void writes.push(t) } });
    const raw = 'progress 10%\rprogress 100%\n\u001b[32mok\u001b[0m\n';
    render(pane(outputFromString(raw)));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Copy' })));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Copy raw stdout' })));
    expect(writes).toEqual(['progress 100%\nok\n', raw]);
    expect(screen.getByRole('button', { name: 'Copy raw stdout' }).textContent).toBe('Copied');
  });
});
