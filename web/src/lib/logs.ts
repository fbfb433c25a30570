// Log viewer logic: merging lines that arrive out of order or twice (SSE resumes, page
// fetches), and searching them.
import type { LogLine } from '../api/client';

/** Merge new lines into a seq-ordered list without duplicates. */
export function mergeLines(existing: LogLine[], incoming: LogLine[]): LogLine[] {
  if (incoming.length === 0) return existing;
  const last = existing.length ? (existing[existing.length - 1].seq ?? 0) : 0;
  // Fast path: everything is new and in order.
  if (incoming.every((l, i) => (l.seq ?? 0) > (i === 0 ? last : (incoming[i - 1].seq ?? 0)))) {
    return existing.concat(incoming);
  }
  const bySeq = new Map<number, LogLine>();
  for (const l of existing) bySeq.set(l.seq ?? 0, l);
  for (const l of incoming) bySeq.set(l.seq ?? 0, l);
  return [...bySeq.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

/** Lines whose text contains the query (any case); all lines for an empty query. */
export function searchLines(lines: LogLine[], query: string): LogLine[] {
  const q = query.trim().toLowerCase();
  if (!q) return lines;
  return lines.filter((l) => (l.text ?? '').toLowerCase().includes(q));
}

/** Split text around matches so they can be highlighted. */
export function highlight(text: string, query: string): { text: string; match: boolean }[] {
  const q = query.trim().toLowerCase();
  if (!q) return [{ text, match: false }];
  const out: { text: string; match: boolean }[] = [];
  const lower = text.toLowerCase();
  let i = 0;
  for (;;) {
    const j = lower.indexOf(q, i);
    if (j < 0) break;
    if (j > i) out.push({ text: text.slice(i, j), match: false });
    out.push({ text: text.slice(j, j + q.length), match: true });
    i = j + q.length;
  }
  if (i < text.length) out.push({ text: text.slice(i), match: false });
  return out;
}
