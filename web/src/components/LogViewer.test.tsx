import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { LogViewer } from './LogViewer';
import { renderWithProviders } from '../test/render';
import type { LogLine } from '../api/client';

const lines = (n: number, from = 1): LogLine[] =>
  Array.from({ length: n }, (_, i) => ({ seq: from + i, text: i % 2 ? `odd line ${from + i}` : `even line ${from + i}`, stream: 'stdout', at: '' }));

describe('LogViewer', () => {
  it('searches with a match count', async () => {
    renderWithProviders(<LogViewer lines={lines(4)} live />);
    await userEvent.type(screen.getByLabelText('Search the log'), 'ODD');
    expect(screen.getByText('2 of 4 lines match')).toBeInTheDocument();
    expect(screen.getByRole('log')).not.toHaveTextContent('even line');
    await userEvent.clear(screen.getByLabelText('Search the log'));
    await userEvent.type(screen.getByLabelText('Search the log'), 'nothing');
    expect(screen.getByText(/No line matches/)).toBeInTheDocument();
  });

  it('freezes while paused and counts the lines that arrive', async () => {
    const { rerender } = renderWithProviders(<LogViewer lines={lines(2)} live />);
    await userEvent.click(screen.getByRole('button', { name: 'Pause' }));
    expect(screen.getByRole('button', { name: 'Resume' })).toHaveAttribute('aria-pressed', 'true');
    rerender(<LogViewer lines={[...lines(2), ...lines(3, 3)]} live />);
    expect(screen.getByText('3 new')).toBeInTheDocument();
    expect(screen.getByRole('log')).not.toHaveTextContent('line 5');
    await userEvent.click(screen.getByRole('button', { name: 'Resume' }));
    expect(screen.getByRole('log')).toHaveTextContent('line 5');
  });

  it('says when there is nothing yet', () => {
    renderWithProviders(<LogViewer lines={[]} live emptyText="Waiting…" />);
    expect(screen.getByText('Waiting…')).toBeInTheDocument();
  });
});
