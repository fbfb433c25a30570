// Builds a restic forget policy. It refuses an empty policy where one is required
// (forget would otherwise remove every snapshot) and explains what it keeps.
import { Alert, Button, Group, NumberInput, SimpleGrid, Stack, TagsInput, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import {
  countKeys,
  defaultRetention,
  describeRetention,
  emptyRetention,
  retentionErrors,
  retentionToApi,
  type RetentionForm,
} from '../lib/retention';

const labels: Record<(typeof countKeys)[number], string> = {
  keep_last: 'Keep last',
  keep_hourly: 'Hourly',
  keep_daily: 'Daily',
  keep_weekly: 'Weekly',
  keep_monthly: 'Monthly',
  keep_yearly: 'Yearly',
};

export function RetentionBuilder({
  value,
  onChange,
  required,
  serverError,
}: {
  value: RetentionForm;
  onChange: (v: RetentionForm) => void;
  required: boolean;
  serverError?: string;
}) {
  const errs = retentionErrors(value, required);
  const set = <K extends keyof RetentionForm>(k: K, v: RetentionForm[K]) => onChange({ ...value, [k]: v });
  const policy = retentionToApi(value);
  return (
    <Stack gap="sm" data-testid="retention-builder">
      <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }}>
        {countKeys.map((k) => (
          <NumberInput
            key={k}
            label={labels[k]}
            min={0}
            allowDecimal={false}
            allowNegative={false}
            value={value[k]}
            onChange={(v) => set(k, typeof v === 'number' ? v : v === '' ? '' : Number(v))}
            error={errs[k]}
            placeholder="—"
          />
        ))}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label="Keep everything within"
          description="A duration such as 7d, 2w3d or 1y6m"
          value={value.keep_within}
          onChange={(e) => set('keep_within', e.currentTarget.value)}
          error={errs.keep_within ?? (serverError && serverError.includes('keep_within') ? serverError : undefined)}
          placeholder="e.g. 14d"
        />
        <TagsInput
          label="Keep snapshots tagged"
          description="Press Enter after each tag"
          value={value.keep_tags}
          onChange={(v) => set('keep_tags', v)}
        />
      </SimpleGrid>
      <Group gap="xs">
        <Text size="sm" c="dimmed">
          Presets:
        </Text>
        <Button size="compact-xs" variant="default" onClick={() => onChange({ ...defaultRetention })}>
          7 daily · 4 weekly · 12 monthly
        </Button>
        <Button size="compact-xs" variant="default" onClick={() => onChange({ ...emptyRetention, keep_last: 10 })}>
          Last 10
        </Button>
        <Button size="compact-xs" variant="default" onClick={() => onChange({ ...emptyRetention, keep_within: '30d' })}>
          30 days
        </Button>
        <Button size="compact-xs" variant="subtle" color="gray" onClick={() => onChange({ ...emptyRetention })}>
          Clear
        </Button>
      </Group>
      {errs.policy || (serverError && !serverError.includes('keep_within')) ? (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert" data-testid="retention-error">
          {serverError && !errs.policy ? serverError : errs.policy}
        </Alert>
      ) : (
        <Text size="sm" c="dimmed" data-testid="retention-summary">
          Keeps: {describeRetention(policy)}
        </Text>
      )}
    </Stack>
  );
}
