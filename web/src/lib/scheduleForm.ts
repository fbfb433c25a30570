// The schedule editor's form state, its conversion to the API body, and where a
// server validation error (details.field) belongs on the form.
import type { Schedule, ScheduleInput } from '../api/client';
import { defaultRetention, retentionFromApi, retentionToApi, type RetentionForm } from './retention';

export const scheduleKinds = ['backup', 'forget', 'prune', 'check', 'unlock'] as const;
export type ScheduleKind = (typeof scheduleKinds)[number];

export type ScheduleForm = {
  name: string;
  kind: ScheduleKind;
  repository_id: string;
  cron: string;
  timezone: string;
  paths: string[];
  excludes: string[];
  tags: string[];
  retention: RetentionForm;
  prune: boolean;
  read_data_subset: string;
  max_unused: string;
  pre_hook: string;
  post_hook: string;
  enabled: boolean;
  manual: boolean;
};

export type FormField = keyof ScheduleForm | 'retention_policy' | 'keep_within' | 'hooks' | 'form';

export function newScheduleForm(repositoryId = '', timezone = 'UTC'): ScheduleForm {
  return {
    name: '',
    kind: 'backup',
    repository_id: repositoryId,
    cron: '0 3 * * *',
    timezone,
    paths: [],
    excludes: [],
    tags: [],
    retention: { ...defaultRetention },
    prune: false,
    read_data_subset: '',
    max_unused: '',
    pre_hook: '',
    post_hook: '',
    enabled: true,
    manual: false,
  };
}

export function scheduleToForm(s: Schedule): ScheduleForm {
  return {
    name: s.name ?? '',
    kind: (scheduleKinds as readonly string[]).includes(s.kind ?? '') ? (s.kind as ScheduleKind) : 'backup',
    repository_id: s.repository_id ?? '',
    cron: s.cron ?? '',
    timezone: s.timezone || 'UTC',
    paths: s.paths ?? [],
    excludes: s.excludes ?? [],
    tags: s.tags ?? [],
    retention: s.retention ? retentionFromApi(s.retention) : { ...defaultRetention },
    prune: !!s.options?.prune,
    read_data_subset: s.options?.read_data_subset ?? '',
    max_unused: s.options?.max_unused ?? '',
    pre_hook: s.pre_hook ?? '',
    post_hook: s.post_hook ?? '',
    enabled: s.enabled ?? true,
    manual: s.manual ?? false,
  };
}

export function formToInput(f: ScheduleForm): ScheduleInput {
  const body: ScheduleInput = {
    name: f.name.trim(),
    kind: f.kind,
    repository_id: f.repository_id,
    cron: f.cron.trim(),
    timezone: f.timezone || undefined,
    enabled: f.enabled,
    manual: f.manual,
  };
  if (f.kind === 'backup') {
    body.paths = f.paths;
    if (f.excludes.length) body.excludes = f.excludes;
    if (f.tags.length) body.tags = f.tags;
  }
  if (f.kind === 'forget') {
    body.retention = retentionToApi(f.retention);
    if (f.tags.length) body.tags = f.tags;
    if (f.prune) body.options = { prune: true };
  }
  if (f.kind === 'check' && f.read_data_subset.trim()) body.options = { read_data_subset: f.read_data_subset.trim() };
  if (f.kind === 'prune' && f.max_unused.trim()) body.options = { max_unused: f.max_unused.trim() };
  if (f.pre_hook.trim()) body.pre_hook = f.pre_hook.trim();
  if (f.post_hook.trim()) body.post_hook = f.post_hook.trim();
  return body;
}

/** Where the server's details.field goes on the form. */
export function fieldForServerError(field: string | undefined): FormField {
  if (!field) return 'form';
  if (field === 'retention') return 'retention_policy';
  if (field.startsWith('retention.')) return 'keep_within';
  if (field === 'hooks' || field === 'pre_hook' || field === 'post_hook') return 'pre_hook';
  if (field.startsWith('options.')) {
    const k = field.slice('options.'.length);
    if (k === 'read_data_subset' || k === 'max_unused') return k;
    return 'form';
  }
  const known: FormField[] = ['name', 'kind', 'repository_id', 'cron', 'timezone', 'paths', 'excludes', 'tags'];
  return (known as string[]).includes(field) ? (field as FormField) : 'form';
}

/** Problems the form can see before asking the server. */
export function clientErrors(f: ScheduleForm): Partial<Record<FormField, string>> {
  const e: Partial<Record<FormField, string>> = {};
  if (!f.name.trim()) e.name = 'A name is required';
  if (!f.repository_id) e.repository_id = 'Choose a repository';
  if (!f.manual && !f.cron.trim()) e.cron = 'A cron expression is required';
  if (f.kind === 'backup') {
    if (f.paths.length === 0) e.paths = 'Add at least one path to back up';
    const rel = f.paths.find((p) => !(p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\')));
    if (rel) e.paths = `${rel} is not an absolute path`;
  }
  if (f.kind === 'forget' && retentionToApi(f.retention) === undefined) {
    e.retention_policy = 'Keep at least one snapshot: an empty policy would make restic forget every snapshot.';
  }
  return e;
}
