// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnvironmentView } from '../../../src/domain/environments';
import { DEFAULT_LIMITS } from '../../../src/domain/limits';
import { EnvironmentInfo } from './EnvironmentInfo';

afterEach(cleanup);

const view = (overrides: Partial<EnvironmentView> = {}): EnvironmentView => ({
  name: 'python-data',
  description: 'data',
  suite: 'bookworm',
  python_version: '3.11.2',
  status: 'ready',
  size_bytes: 1,
  digest: null,
  built_at: null,
  packages: [
    { name: 'python3-numpy', version: '1:1.24.2-1' },
    { name: 'python3-pandas', version: '1.5.3+dfsg-2' },
    { name: 'libc6', version: '2.36-9' },
  ],
  default_limits: DEFAULT_LIMITS,
  max_limits: DEFAULT_LIMITS,
  sandboxes: ['bubblewrap'],
  workers: ['w1'],
  build_command: 'crucible env build python-data',
  error: null,
  ...overrides,
});

describe('EnvironmentInfo', () => {
  it('shows the Python version and finds packages by name', () => {
    render(<EnvironmentInfo environment={view()} />);
    expect(screen.getByText(/Python 3\.11\.2/)).toBeTruthy();
    expect(screen.queryByRole('note')).toBeNull();
    fireEvent.change(screen.getByLabelText('Search packages'), { target: { value: 'pandas' } });
    expect(screen.getByText('1 match')).toBeTruthy();
    expect(screen.getByText('python3-pandas')).toBeTruthy();
    expect(screen.queryByText('python3-numpy')).toBeNull();
  });

  it('says how to build an environment no worker serves', () => {
    render(<EnvironmentInfo environment={view({ status: 'not_built', workers: [], packages: [] })} />);
    expect(screen.getByRole('note').textContent).toContain('crucible env build python-data');
  });
});
