// The restore dialog's state, its checks and the request it becomes (POST
// …/snapshots/{sid}/restore). Paths are the snapshot's own paths (what to restore: the
// includes); the target is the original location or an absolute directory on the host,
// below which restic recreates the snapshot's paths.
import type { RestoreRequest } from '../api/client';
import { joinPath, normalizePath } from './browsePath';

export const overwriteModes = ['always', 'if-changed', 'if-newer', 'never'] as const;
export type Overwrite = (typeof overwriteModes)[number];

export const overwriteLabel: Record<Overwrite, string> = {
  always: 'Always overwrite existing files',
  'if-changed': 'Overwrite files whose content changed',
  'if-newer': 'Overwrite only with newer files',
  never: 'Never overwrite existing files',
};

export type RestoreForm = {
  paths: string[];
  targetMode: 'original' | 'directory';
  target: string;
  excludes: string[];
  overwrite: Overwrite;
  otherHost: boolean;
  targetHostId: string;
  targetRepositoryId: string;
  /** Restoring to the original location replaces what is there: the operator confirms it. */
  confirmInPlace: boolean;
};

export type RestoreField = 'paths' | 'target' | 'excludes' | 'overwrite' | 'target_host_id' | 'target_repository_id' | 'confirm' | 'form';

export function newRestoreForm(paths: string[] = []): RestoreForm {
  return {
    paths,
    targetMode: 'directory',
    target: '',
    excludes: [],
    overwrite: 'always',
    otherHost: false,
    targetHostId: '',
    targetRepositoryId: '',
    confirmInPlace: false,
  };
}

/** An absolute directory: /srv/restore, or C:\restore on a Windows host. */
export function isAbsoluteTarget(t: string): boolean {
  return t.startsWith('/') || /^[A-Za-z]:[\\/]/.test(t);
}

/** true/false when the version is known; undefined when it is not (no check then). */
export function resticAtLeast(version: string | undefined, major: number, minor: number): boolean | undefined {
  const m = /(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return undefined;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** restic before 0.17 always overwrites; other choices fail there. */
export function overwriteSupported(resticVersion: string | undefined): boolean {
  return resticAtLeast(resticVersion, 0, 17) !== false;
}

export function restoreErrors(f: RestoreForm, opts: { resticVersion?: string } = {}): Partial<Record<RestoreField, string>> {
  const e: Partial<Record<RestoreField, string>> = {};
  const bad = f.paths.find((p) => !p.startsWith('/'));
  if (bad !== undefined) e.paths = `“${bad}” is not a path of the snapshot (they start with /)`;
  if (f.targetMode === 'directory') {
    const t = f.target.trim();
    if (t === '') e.target = 'Enter the directory to restore into';
    else if (!isAbsoluteTarget(t)) e.target = 'Use an absolute directory, e.g. /srv/restore';
    else if (normalizePath(t) === '/' && t.startsWith('/')) e.target = 'That is the original location: choose “Original location” instead';
    else if (/[\r\n\0]/.test(t)) e.target = 'One line, please';
  } else if (!f.confirmInPlace) {
    e.confirm = 'Confirm that files at their original location may be replaced';
  }
  if (f.excludes.some((x) => x.trim() === '')) e.excludes = 'Empty pattern';
  if (f.overwrite !== 'always' && !overwriteSupported(opts.resticVersion))
    e.overwrite = `restic ${opts.resticVersion} always overwrites (choices need restic 0.17 or newer)`;
  if (f.otherHost) {
    if (!f.targetHostId) e.target_host_id = 'Choose the host to restore on';
    else if (!f.targetRepositoryId) e.target_repository_id = 'Choose that host’s copy of this repository';
  }
  return e;
}

export function toRestoreRequest(f: RestoreForm): RestoreRequest {
  const req: RestoreRequest = {};
  if (f.paths.length) req.paths = f.paths.map((p) => p.trim());
  req.target = f.targetMode === 'directory' ? f.target.trim() : '';
  if (f.excludes.length) req.excludes = f.excludes.map((x) => x.trim());
  if (f.overwrite !== 'always') req.overwrite = f.overwrite;
  if (f.otherHost && f.targetHostId) {
    req.target_host_id = f.targetHostId;
    req.target_repository_id = f.targetRepositoryId;
  }
  return req;
}

/** Where a path of the snapshot ends up: "/srv/restore/home/ada" for /home/ada below /srv/restore. */
export function restoredTo(path: string, f: Pick<RestoreForm, 'targetMode' | 'target'>): string {
  if (f.targetMode === 'original' || !f.target.trim()) return path;
  const t = f.target.trim().replace(/[\\/]+$/, '');
  return joinPath(t, path.replace(/^\/+/, ''));
}

/** The form field a server validation error is about. */
export function fieldForRestoreError(field: string | undefined): RestoreField {
  switch (field) {
    case 'paths':
    case 'target':
    case 'excludes':
    case 'overwrite':
    case 'target_host_id':
    case 'target_repository_id':
      return field;
    default:
      return 'form';
  }
}
