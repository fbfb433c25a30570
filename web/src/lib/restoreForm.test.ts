import { describe, expect, it } from 'vitest';
import { fieldForRestoreError, isAbsoluteTarget, newRestoreForm, resticAtLeast, restoredTo, restoreErrors, toRestoreRequest, type RestoreForm } from './restoreForm';

const form = (over: Partial<RestoreForm>): RestoreForm => ({ ...newRestoreForm(['/home/ada/projects']), ...over });

describe('restore form', () => {
  it('needs an absolute target directory', () => {
    expect(restoreErrors(form({ target: '' })).target).toMatch(/Enter the directory/);
    expect(restoreErrors(form({ target: 'restore' })).target).toMatch(/absolute/);
    expect(restoreErrors(form({ target: '/' })).target).toMatch(/original location/);
    expect(restoreErrors(form({ target: '/srv/restore' }))).toEqual({});
    expect(isAbsoluteTarget('C:\\restore')).toBe(true);
    expect(isAbsoluteTarget('D:/restore')).toBe(true);
  });

  it('asks for a confirmation before restoring in place', () => {
    expect(restoreErrors(form({ targetMode: 'original' })).confirm).toBeDefined();
    expect(restoreErrors(form({ targetMode: 'original', confirmInPlace: true }))).toEqual({});
  });

  it('refuses paths that are not the snapshot’s and empty excludes', () => {
    expect(restoreErrors(form({ paths: ['home/ada'], target: '/srv' })).paths).toMatch(/home\/ada/);
    expect(restoreErrors(form({ target: '/srv', excludes: [' '] })).excludes).toBeDefined();
  });

  it('knows restic before 0.17 always overwrites', () => {
    expect(resticAtLeast('restic 0.14.0', 0, 17)).toBe(false);
    expect(resticAtLeast('0.18.1', 0, 17)).toBe(true);
    expect(resticAtLeast('', 0, 17)).toBeUndefined();
    expect(restoreErrors(form({ target: '/srv', overwrite: 'never' }), { resticVersion: '0.14.0' }).overwrite).toMatch(/0\.17/);
    expect(restoreErrors(form({ target: '/srv', overwrite: 'never' }), { resticVersion: '0.18.0' })).toEqual({});
    expect(restoreErrors(form({ target: '/srv', overwrite: 'never' }))).toEqual({});
  });

  it('needs the other host and its repository', () => {
    expect(restoreErrors(form({ target: '/srv', otherHost: true })).target_host_id).toBeDefined();
    expect(restoreErrors(form({ target: '/srv', otherHost: true, targetHostId: 'h2' })).target_repository_id).toBeDefined();
    expect(restoreErrors(form({ target: '/srv', otherHost: true, targetHostId: 'h2', targetRepositoryId: 'r2' }))).toEqual({});
  });

  it('becomes the request', () => {
    expect(toRestoreRequest(form({ target: ' /srv/restore ', excludes: ['*.tmp'], overwrite: 'if-newer' }))).toEqual({
      paths: ['/home/ada/projects'],
      target: '/srv/restore',
      excludes: ['*.tmp'],
      overwrite: 'if-newer',
    });
    expect(toRestoreRequest(form({ targetMode: 'original', target: '/ignored', confirmInPlace: true }))).toEqual({ paths: ['/home/ada/projects'], target: '' });
    expect(toRestoreRequest(form({ target: '/srv', otherHost: true, targetHostId: 'h2', targetRepositoryId: 'r2' }))).toMatchObject({
      target_host_id: 'h2',
      target_repository_id: 'r2',
    });
    expect(toRestoreRequest({ ...newRestoreForm([]), target: '/srv' }).paths).toBeUndefined();
  });

  it('shows where a path ends up', () => {
    expect(restoredTo('/home/ada/projects', { targetMode: 'directory', target: '/srv/restore/' })).toBe('/srv/restore/home/ada/projects');
    expect(restoredTo('/home/ada', { targetMode: 'original', target: '' })).toBe('/home/ada');
    expect(fieldForRestoreError('target')).toBe('target');
    expect(fieldForRestoreError('snapshot')).toBe('form');
  });
});
