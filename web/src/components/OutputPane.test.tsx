// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { OutputPane, splitLines } from './OutputPane';

afterEach(cleanup);

describe('OutputPane', () => {
  it('renders program output as text, never as HTML, and drops escapes', () => {
    const evil = '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">\n\u001b[31mred\u001b[0m\n';
    const { container } = render(<OutputPane title="stdout" text={evil} truncated={false} emptyText="none" />);
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img')).toBeNull();
    expect(container.textContent).toContain('<script>window.__pwned = 1</script>');
    expect(container.textContent).not.toContain('\u001b');
    const red = screen.getByText('red');
    expect(red.className).toBe('ansi-fg-1');
  });

  it('renders only a window of a very large output', () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n');
    const { container } = render(<OutputPane title="stdout" text={text} truncated={false} emptyText="none" height={200} />);
    const rendered = container.querySelectorAll('.output-line').length;
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(200);
    expect(screen.getByTestId('stdout-stats').textContent).toContain('50,000 lines');
  });

  it('shows a truncation marker with the limit', () => {
    render(<OutputPane title="stderr" tone="stderr" text={'a\nb\n'} truncated limitBytes={1024} emptyText="none" />);
    expect(screen.getByRole('note').textContent).toContain('first 1 KiB of stderr');
    expect(screen.getByText('truncated')).toBeTruthy();
  });

  it('clips absurdly long lines', () => {
    const { container } = render(<OutputPane title="stdout" text={'x'.repeat(10_000)} truncated={false} emptyText="none" />);
    expect(container.textContent).toContain('6,000 more characters');
  });

  it('shows the empty text with no output', () => {
    render(<OutputPane title="stdout" text="" truncated={false} emptyText="Waiting for output…" />);
    expect(screen.getByText('Waiting for output…')).toBeTruthy();
  });
});

describe('splitLines', () => {
  it('does not count a final newline as an extra line', () => {
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\n\nb')).toEqual(['a', '', 'b']);
    expect(splitLines('')).toEqual([]);
  });
});
