import { Button } from '@mantine/core';
import { Link } from 'react-router';
import { EmptyState } from '../components/States';

export function NotFoundPage() {
  return (
    <EmptyState
      title="Page not found"
      description="There is nothing at this address. It may have been a host or job that no longer exists."
      action={
        <Button component={Link} to="/">
          Go to the dashboard
        </Button>
      }
    />
  );
}
