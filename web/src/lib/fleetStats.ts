// Fleet-wide repository size over time, summed from per-repository stats histories:
// one point per day, each repository contributing its latest sample up to that day
// (carried forward until it reports again).

export type Sample = { at?: string; total_size?: number };

export function sumSizeByDay(histories: Sample[][], days = 30, now = Date.now()): { day: string; size: number }[] {
  const dayMs = 86400_000;
  const end = Math.floor(now / dayMs) * dayMs + dayMs; // end of today (UTC)
  const start = end - days * dayMs;
  const sorted = histories.map((h) =>
    h
      .filter((s) => s.at && !Number.isNaN(Date.parse(s.at)))
      .map((s) => ({ t: Date.parse(s.at!), v: s.total_size ?? 0 }))
      .sort((a, b) => a.t - b.t),
  );
  const out: { day: string; size: number }[] = [];
  let any = false;
  for (let d = start + dayMs; d <= end; d += dayMs) {
    let total = 0;
    let have = false;
    for (const h of sorted) {
      let last: number | undefined;
      for (const s of h) {
        if (s.t < d) last = s.v;
        else break;
      }
      if (last !== undefined) {
        total += last;
        have = true;
      }
    }
    if (have) any = true;
    if (any) out.push({ day: new Date(d - dayMs).toISOString().slice(0, 10), size: total });
  }
  return out;
}
