// The retention (forget) policy as edited in the UI, and the rules the server enforces:
// a forget needs at least one keep rule (restic would otherwise remove every snapshot).
import type { Retention } from '../api/client';

export type RetentionForm = {
  keep_last: number | '';
  keep_hourly: number | '';
  keep_daily: number | '';
  keep_weekly: number | '';
  keep_monthly: number | '';
  keep_yearly: number | '';
  keep_within: string;
  keep_tags: string[];
};

export const countKeys = ['keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly'] as const;

export const emptyRetention: RetentionForm = {
  keep_last: '',
  keep_hourly: '',
  keep_daily: '',
  keep_weekly: '',
  keep_monthly: '',
  keep_yearly: '',
  keep_within: '',
  keep_tags: [],
};

/** A sensible starting policy: 7 daily, 4 weekly, 12 monthly. */
export const defaultRetention: RetentionForm = { ...emptyRetention, keep_daily: 7, keep_weekly: 4, keep_monthly: 12 };

export function retentionFromApi(r: Retention | undefined | null): RetentionForm {
  if (!r) return { ...emptyRetention };
  return {
    keep_last: r.keep_last || '',
    keep_hourly: r.keep_hourly || '',
    keep_daily: r.keep_daily || '',
    keep_weekly: r.keep_weekly || '',
    keep_monthly: r.keep_monthly || '',
    keep_yearly: r.keep_yearly || '',
    keep_within: r.keep_within ?? '',
    keep_tags: r.keep_tags ?? [],
  };
}

/** The API body, without zero or empty rules; undefined when nothing is kept. */
export function retentionToApi(f: RetentionForm): Retention | undefined {
  const out: Retention = {};
  for (const k of countKeys) {
    const v = f[k];
    if (typeof v === 'number' && v > 0) out[k] = v;
  }
  if (f.keep_within.trim() !== '') out.keep_within = f.keep_within.trim();
  const tags = f.keep_tags.map((t) => t.trim()).filter(Boolean);
  if (tags.length > 0) out.keep_tags = tags;
  return Object.keys(out).length === 0 ? undefined : out;
}

export function isRetentionEmpty(f: RetentionForm): boolean {
  return retentionToApi(f) === undefined;
}

const withinRE = /^(\d+[yYmwdh])+$/;

/** Client-side problems with a policy, by field; the server checks again. */
export function retentionErrors(f: RetentionForm, required: boolean): Partial<Record<keyof RetentionForm | 'policy', string>> {
  const errs: Partial<Record<keyof RetentionForm | 'policy', string>> = {};
  for (const k of countKeys) {
    const v = f[k];
    if (typeof v === 'number' && (v < 0 || !Number.isInteger(v))) errs[k] = 'A whole number of 0 or more';
  }
  if (f.keep_within.trim() !== '' && !withinRE.test(f.keep_within.trim())) {
    errs.keep_within = 'A duration like 7d, 2w3d or 1y6m';
  }
  if (required && isRetentionEmpty(f)) {
    errs.policy = 'Keep at least one snapshot: an empty policy would make restic forget every snapshot.';
  }
  return errs;
}

/** "7 daily, 4 weekly, 12 monthly" */
export function describeRetention(r: Retention | undefined | null): string {
  if (!r) return 'none';
  const parts: string[] = [];
  if (r.keep_last) parts.push(`last ${r.keep_last}`);
  if (r.keep_hourly) parts.push(`${r.keep_hourly} hourly`);
  if (r.keep_daily) parts.push(`${r.keep_daily} daily`);
  if (r.keep_weekly) parts.push(`${r.keep_weekly} weekly`);
  if (r.keep_monthly) parts.push(`${r.keep_monthly} monthly`);
  if (r.keep_yearly) parts.push(`${r.keep_yearly} yearly`);
  if (r.keep_within) parts.push(`all within ${r.keep_within}`);
  if (r.keep_tags?.length) parts.push(`tagged ${r.keep_tags.join(', ')}`);
  return parts.length ? parts.join(', ') : 'none';
}
