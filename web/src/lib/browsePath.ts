// Paths inside a snapshot, as restic stores them: absolute, "/" separated (a Windows
// host's C:\Users is /C/Users).

/** "/a/b" + "c" → "/a/b/c". */
export function joinPath(dir: string, name: string): string {
  return (dir.endsWith('/') ? dir : dir + '/') + name;
}

export function parentPath(p: string): string {
  const n = normalizePath(p);
  if (n === '/') return '/';
  const i = n.lastIndexOf('/');
  return i <= 0 ? '/' : n.slice(0, i);
}

/** An absolute path without a trailing slash, duplicate or dot segments. */
export function normalizePath(p: string | null | undefined): string {
  const parts: string[] = [];
  for (const seg of (p ?? '').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

/** Breadcrumbs of a path: "/", then each directory down to it. */
export function pathCrumbs(p: string): { name: string; path: string }[] {
  const n = normalizePath(p);
  const out = [{ name: '/', path: '/' }];
  if (n === '/') return out;
  let cur = '';
  for (const seg of n.slice(1).split('/')) {
    cur += '/' + seg;
    out.push({ name: seg, path: cur });
  }
  return out;
}

export function baseName(p: string): string {
  const n = normalizePath(p);
  return n === '/' ? '/' : n.slice(n.lastIndexOf('/') + 1);
}

/** A restic find pattern for what someone typed: a glob as is, a plain word as *word*. */
export function findPattern(term: string): string {
  const t = term.trim();
  if (t === '') return '';
  return /[*?[]/.test(t) ? t : `*${t}*`;
}

/** Where to open a snapshot: its one path, or the deepest folder its paths share. */
export function commonDir(paths: string[] | undefined): string {
  const ps = (paths ?? []).filter((p) => p.startsWith('/')).map(normalizePath);
  if (ps.length === 0) return '/';
  if (ps.length === 1) return ps[0];
  const split = ps.map((p) => p.split('/').filter(Boolean));
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const seg = split[0][i];
    if (seg === undefined || split.some((s) => s[i] !== seg)) break;
    out.push(seg);
  }
  return '/' + out.join('/');
}
