import { useState } from 'react';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { RetentionBuilder } from './RetentionBuilder';
import { renderWithProviders } from '../test/render';
import { defaultRetention, type RetentionForm } from '../lib/retention';

function Harness({ required }: { required: boolean }) {
  const [v, setV] = useState<RetentionForm>({ ...defaultRetention });
  return <RetentionBuilder value={v} onChange={setV} required={required} />;
}

describe('RetentionBuilder', () => {
  it('summarises the policy and refuses an empty one', async () => {
    renderWithProviders(<Harness required />);
    expect(screen.getByTestId('retention-summary')).toHaveTextContent('7 daily, 4 weekly, 12 monthly');
    await userEvent.click(screen.getByRole('button', { name: 'Clear' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Keep at least one snapshot');
    await userEvent.click(screen.getByRole('button', { name: 'Last 10' }));
    expect(screen.getByTestId('retention-summary')).toHaveTextContent('last 10');
  });
  it('allows an empty policy where none is required', async () => {
    renderWithProviders(<Harness required={false} />);
    await userEvent.click(screen.getByRole('button', { name: 'Clear' }));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('retention-summary')).toHaveTextContent('none');
  });
  it('checks keep-within durations', async () => {
    renderWithProviders(<Harness required />);
    await userEvent.type(screen.getByLabelText('Keep everything within'), 'soon');
    expect(screen.getByText('A duration like 7d, 2w3d or 1y6m')).toBeInTheDocument();
  });
});
