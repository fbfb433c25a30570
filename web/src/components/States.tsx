// Designed loading, empty and error states, used by every page.
import type { ReactNode } from 'react';
import { Alert, Button, Center, Group, Loader, Paper, Skeleton, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconAlertTriangle, IconInbox, IconRefresh, IconLock, IconPlugConnectedX } from '@tabler/icons-react';
import { errorMessage, isApiError } from '../api/client';

export function FullPageLoader({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center h="60vh" role="status" aria-live="polite">
      <Stack align="center" gap="xs">
        <Loader />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Stack>
    </Center>
  );
}

/** Placeholder rows while a table loads. */
export function TableSkeleton({ rows = 5, label = 'Loading' }: { rows?: number; label?: string }) {
  return (
    <Stack gap="xs" role="status" aria-label={label} aria-busy="true">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} height={34} radius="sm" />
      ))}
    </Stack>
  );
}

export function CardSkeleton({ height = 120 }: { height?: number }) {
  return <Skeleton height={height} radius="md" aria-hidden="true" />;
}

export function EmptyState({
  title,
  description,
  action,
  icon,
}: {
  title: string;
  description?: ReactNode;
  action?: ReactNode;
  icon?: ReactNode;
}) {
  return (
    <Paper withBorder radius="md" p="xl" data-testid="empty-state">
      <Stack align="center" gap="xs" ta="center">
        <ThemeIcon size={48} radius="xl" variant="light" color="gray" aria-hidden="true">
          {icon ?? <IconInbox size={26} />}
        </ThemeIcon>
        <Title order={4}>{title}</Title>
        {description && (
          <Text c="dimmed" size="sm" maw={520}>
            {description}
          </Text>
        )}
        {action && <Group mt="xs">{action}</Group>}
      </Stack>
    </Paper>
  );
}

export function ErrorState({
  error,
  title,
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const offline = isApiError(error, 0);
  const forbidden = isApiError(error, 403);
  const notFound = isApiError(error, 404);
  const heading =
    title ??
    (offline
      ? 'The server cannot be reached'
      : forbidden
        ? 'Not allowed'
        : notFound
          ? 'Not found'
          : 'Something went wrong');
  const Icon = offline ? IconPlugConnectedX : forbidden ? IconLock : IconAlertTriangle;
  return (
    <Alert
      color={notFound ? 'gray' : 'red'}
      variant="light"
      radius="md"
      title={heading}
      icon={<Icon size={20} />}
      role="alert"
    >
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{errorMessage(error)}</Text>
        {onRetry && !notFound && (
          <Button size="xs" variant="default" leftSection={<IconRefresh size={14} />} onClick={onRetry}>
            Try again
          </Button>
        )}
      </Stack>
    </Alert>
  );
}
