/**
 * WCAG AA (4.5:1) for text in both themes, checked on the stylesheet itself: every colour there
 * is light-dark(<light>, <dark>), so each pair below is resolved once per theme.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODE_PALETTES, TOKEN_KINDS } from './code/palette';

type Theme = 'light' | 'dark';
const AA = 4.5;

const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
const rules = [...css.matchAll(/([^{}]+)\{([^{}]*)\}/g)].map((m) => ({
  selectors: (m[1] as string).split(',').map((s) => s.trim()),
  decls: new Map(
    (m[2] as string)
      .split(';')
      .map((d) => [d.slice(0, d.indexOf(':')).trim(), d.slice(d.indexOf(':') + 1).trim()] as const)
      .filter(([k]) => k !== ''),
  ),
}));

/** The value of `prop` in the rule for `selector` (the first one that sets it). */
function at(selector: string, prop: string): string {
  const v = rules.find((r) => r.selectors.includes(selector) && r.decls.has(prop))?.decls.get(prop);
  if (v === undefined) throw new Error(`no ${prop} for ${selector}`);
  return v;
}

/** Splits "a, f(b, c), d" at its top-level commas. */
function args(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

/** A CSS colour value (var(), light-dark(), hex) as the hex colour it is in `theme`. */
function resolve(value: string, theme: Theme): string {
  const v = value.trim();
  const inner = (name: string) => v.slice(name.length + 1, -1);
  if (v.startsWith('var(')) return resolve(at(':root', inner('var')), theme);
  if (v.startsWith('light-dark(')) {
    const [light, dark] = args(inner('light-dark'));
    return resolve(theme === 'light' ? (light as string) : (dark as string), theme);
  }
  if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(v)) return v;
  throw new Error(`cannot resolve colour ${v}`);
}

function luminance(hex: string): number {
  const h = hex.length === 4 ? [...hex.slice(1)].map((c) => c + c).join('') : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const v = (token: string) => `var(--${token})`;
const pairs: Array<[label: string, fg: string, bg: string]> = [];
const pair = (label: string, fg: string, bg: string) => pairs.push([label, fg, bg]);

for (const text of ['text', 'text-dim', 'muted']) {
  for (const bg of ['bg', 'surface', 'surface-2', 'surface-3', 'log-bg']) pair(`--${text} on --${bg}`, v(text), v(bg));
}
for (const bg of ['hover', 'selected', 'selected-hover', 'row-hover']) pair(`--text on --${bg}`, v('text'), v(bg));
for (const fg of ['accent', 'ok', 'bad', 'warn', 'bad-text']) {
  for (const bg of ['bg', 'surface', 'surface-2']) pair(`--${fg} on --${bg}`, v(fg), v(bg));
}
pair('--warn on --log-bg (truncation marker)', v('warn'), v('log-bg'));
pair('--bad-text on --bad-bg', v('bad-text'), v('bad-bg'));
pair('--accent on --surface-3', v('accent'), v('surface-3'));
for (const sel of ['.btn-primary', '.btn-danger', '.skip-link', '.chip-button.active']) pair(sel, at(sel, 'color'), at(sel, 'background'));
pair('.btn-primary:hover', at('.btn-primary', 'color'), at('.btn-primary:hover:not(:disabled)', 'background'));
pair('.btn-danger:hover', at('.btn-danger', 'color'), at('.btn-danger:hover:not(:disabled)', 'background'));
for (const status of ['queued', 'provisioning', 'running', 'completed', 'failed', 'timeout', 'cancelled']) {
  pair(`badge ${status}`, at(`.badge-${status}`, 'color'), at(`.badge-${status}`, 'background'));
}
pair('.notice', at('.notice', 'color'), at('.notice', 'background'));
pair('link in .notice', v('accent'), at('.notice', 'background'));
for (const sel of ['.pill-warn', '.pill-ok', '.chip', '.banner-offline', '.form-error', ".toggle[aria-pressed='true']"]) {
  pair(sel, at(sel, 'color'), at(sel, 'background'));
}
pair('chip hover', at('.chip', 'color'), at('a.chip:hover', 'background'));
pair('stderr title', at('.output-stderr .output-header h3', 'color'), v('surface'));
pair('stderr text', at('.output-stderr .lt', 'color'), v('log-bg'));
pair('output line numbers', at('.output-line .ln', 'color'), v('log-bg'));
pair('ANSI dim', at('.ansi-dim', 'color'), v('log-bg'));
pair('code block', v('text'), at('.pre-block', 'background'));
for (let i = 0; i < 16; i++) {
  pair(`ANSI fg ${i} on the log`, at(`.ansi-fg-${i}`, 'color'), v('log-bg'));
  pair(`stdout text on ANSI bg ${i}`, v('text'), at(`.ansi-bg-${i}`, 'background'));
  pair(`stderr text on ANSI bg ${i}`, at('.output-stderr .lt', 'color'), at(`.ansi-bg-${i}`, 'background'));
}

describe('theme contrast', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`keeps code tokens and line numbers at ${AA}:1 on the code background and the current line (${theme})`, () => {
      const p = CODE_PALETTES[theme];
      // Tokens sit on the current line too; line numbers only on the gutter's background.
      const checks: Array<[string, string, string[]]> = [
        ...TOKEN_KINDS.map((k): [string, string, string[]] => [k, p.tokens[k], [p.background, p.lineHighlight]]),
        ['line numbers', p.lineNumber, [p.background]],
        ['current line number', p.lineNumberActive, [p.background]],
      ];
      const failures = checks
        .flatMap(([label, fg, bgs]) => bgs.map((bg) => ({ label: `${label} on ${bg}`, ratio: contrast(fg, bg) })))
        .filter((x) => x.ratio < AA)
        .map((x) => `${x.label}: ${x.ratio.toFixed(2)}`);
      expect(failures).toEqual([]);
    });
  }

  it('draws keyboard hints at full strength (opacity would blend them below 4.5:1 on a button)', () => {
    expect(rules.filter((r) => r.selectors.includes('kbd')).some((r) => r.decls.has('opacity'))).toBe(false);
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`keeps text at ${AA}:1 or more in the ${theme} theme`, () => {
      const failures = pairs
        .map(([label, fg, bg]) => ({ label, ratio: contrast(resolve(fg, theme), resolve(bg, theme)) }))
        .filter((p) => p.ratio < AA)
        .map((p) => `${p.label}: ${p.ratio.toFixed(2)}`);
      expect(failures).toEqual([]);
    });
  }

  it('gives each ANSI colour a distinct value per theme', () => {
    for (const theme of ['light', 'dark'] as const) {
      const fgs = Array.from({ length: 16 }, (_, i) => resolve(at(`.ansi-fg-${i}`, 'color'), theme));
      expect(new Set(fgs).size).toBe(16);
    }
  });
});
