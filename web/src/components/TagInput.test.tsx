// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { TagInput } from './TagInput';

afterEach(cleanup);

function Harness({ initial = [] as string[], error }: { initial?: string[]; error?: string }) {
  const [tags, setTags] = useState(initial);
  return (
    <>
      <TagInput label="Tags" tags={tags} onChange={setTags} error={error} />
      <output data-testid="value">{tags.join('|')}</output>
    </>
  );
}

const input = () => screen.getByLabelText('Tags') as HTMLInputElement;
const value = () => screen.getByTestId('value').textContent;

describe('TagInput', () => {
  it('adds chips on Enter and comma', () => {
    render(<Harness />);
    fireEvent.change(input(), { target: { value: 'alpha' } });
    fireEvent.keyDown(input(), { key: 'Enter' });
    fireEvent.change(input(), { target: { value: 'beta' } });
    fireEvent.keyDown(input(), { key: ',' });
    expect(value()).toBe('alpha|beta');
    expect(input().value).toBe('');
  });

  it('refuses a tag with a space instead of splitting it, keeping the text', () => {
    render(<Harness />);
    fireEvent.change(input(), { target: { value: 'my experiment' } });
    fireEvent.keyDown(input(), { key: 'Enter' });
    expect(value()).toBe('');
    expect(screen.getByRole('alert').textContent).toMatch(/cannot contain spaces.*my-experiment/);
    expect(input().value).toBe('my experiment');
  });

  it('shows the validation message for an invalid tag and keeps the text', () => {
    render(<Harness />);
    fireEvent.change(input(), { target: { value: '#nope' } });
    fireEvent.keyDown(input(), { key: 'Enter' });
    expect(screen.getByRole('alert').textContent).toMatch(/must start with a letter or digit/);
    expect(input().getAttribute('aria-invalid')).toBe('true');
    expect(input().value).toBe('#nope');
    expect(value()).toBe('');
  });

  it('removes chips with their button or Backspace in the empty box', () => {
    render(<Harness initial={['a', 'b', 'c']} />);
    fireEvent.click(screen.getByRole('button', { name: 'Remove tag b' }));
    expect(value()).toBe('a|c');
    fireEvent.keyDown(input(), { key: 'Backspace' });
    expect(value()).toBe('a');
  });

  it('commits on blur', () => {
    render(<Harness />);
    fireEvent.change(input(), { target: { value: 'x1' } });
    fireEvent.blur(input());
    expect(value()).toBe('x1');
  });

  it('shows a server error passed in for the field', () => {
    render(<Harness error="#2: tags may contain letters…" />);
    expect(screen.getByRole('alert').textContent).toBe('#2: tags may contain letters…');
  });
});
