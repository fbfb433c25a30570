// useJobStream follows a job live over Server-Sent Events (GET /jobs/{id}/events):
// "job" when its status changes, "log" for each line (the event id is its seq, so the
// browser resumes with Last-Event-ID after a drop), "progress", and "end" once the job
// is finished and its log drained. Lines are batched into state a few times a second,
// so a chatty job does not render once per line. Where EventSource is missing, or the
// stream keeps failing, it falls back to polling the log by range.
import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, call, type Job, type LogLine, type Progress } from './client';
import { isTerminal, jobKeys } from './queries/jobs';
import { repoKeys } from './queries/repositories';
import { mergeLines } from '../lib/logs';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'ended';

export type JobStream = {
  job?: Job;
  progress?: Progress;
  lines: LogLine[];
  state: StreamState;
};

/** The part of EventSource the hook uses, so tests can pass a fake. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (e: MessageEvent) => void): void;
  close(): void;
  onerror: ((e: Event) => void) | null;
  onopen: ((e: Event) => void) | null;
  readyState: number;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

const defaultFactory: EventSourceFactory | undefined =
  typeof window !== 'undefined' && 'EventSource' in window
    ? (url) => new EventSource(url, { withCredentials: true }) as unknown as EventSourceLike
    : undefined;

const FLUSH_MS = 150;
const MAX_LINES = 50_000;

export function useJobStream(
  jobId: string,
  opts: { factory?: EventSourceFactory | null; pollMs?: number } = {},
): JobStream {
  const qc = useQueryClient();
  // The factory is read once per job (a ref), so an inline function does not restart the stream.
  const factoryRef = useRef(opts.factory === undefined ? defaultFactory : (opts.factory ?? undefined));
  const pollMs = opts.pollMs ?? 2000;
  const [stream, setStream] = useState<JobStream>({ lines: [], state: 'connecting' });
  const pending = useRef<LogLine[]>([]);

  useEffect(() => {
    const factory = factoryRef.current;
    let closed = false;
    let es: EventSourceLike | undefined;
    let pollTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    pending.current = [];
    setStream({ lines: [], state: 'connecting' });

    const flush = () => {
      if (pending.current.length === 0) return;
      const batch = pending.current;
      pending.current = [];
      setStream((s) => {
        let lines = mergeLines(s.lines, batch);
        if (lines.length > MAX_LINES) lines = lines.slice(lines.length - MAX_LINES);
        return { ...s, lines };
      });
    };
    const flushTimer = setInterval(flush, FLUSH_MS);

    const setJob = (job: Job) => {
      qc.setQueryData(jobKeys.detail(jobId), (old: Job | undefined) => ({ ...old, ...job }));
      setStream((s) => ({ ...s, job: { ...s.job, ...job } }));
    };
    const finish = (job: Job) => {
      flush();
      setJob(job);
      setStream((s) => ({ ...s, state: 'ended', progress: s.progress }));
      void qc.invalidateQueries({ queryKey: jobKeys.lists() });
      void qc.invalidateQueries({ queryKey: repoKeys.all });
    };

    let maxSeq = 0;
    const push = (ls: LogLine[]) => {
      for (const l of ls) {
        pending.current.push(l);
        if ((l.seq ?? 0) > maxSeq) maxSeq = l.seq ?? 0;
      }
    };

    // Polling fallback: read the log by range and the job until it is finished.
    const poll = async () => {
      if (closed) return;
      try {
        const page = await call(
          api.GET('/jobs/{id}/logs', { params: { path: { id: jobId }, query: { after: maxSeq, limit: 5000 } } }),
        );
        push(page.items ?? []);
        const job = await call(api.GET('/jobs/{id}', { params: { path: { id: jobId } } }));
        if (job.progress) setStream((s) => ({ ...s, progress: job.progress }));
        if (isTerminal(job.status) && !page.next_cursor) {
          finish(job);
          return;
        }
        setJob(job);
        setStream((s) => ({ ...s, state: 'polling' }));
      } catch {
        // keep trying; the page shows the job query's own error state
      }
      if (!closed) pollTimer = setTimeout(poll, pollMs);
    };

    if (!factory) {
      void poll();
    } else {
      es = factory(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`);
      es.onopen = () => {
        failures = 0;
        setStream((s) => (s.state === 'ended' ? s : { ...s, state: 'live' }));
      };
      es.onerror = () => {
        if (closed) return;
        failures++;
        // EventSource reconnects by itself (with Last-Event-ID); after repeated
        // failures (e.g. a proxy that buffers streams) poll instead.
        if (failures >= 5) {
          es?.close();
          es = undefined;
          void poll();
        } else {
          setStream((s) => (s.state === 'ended' ? s : { ...s, state: 'reconnecting' }));
        }
      };
      const parse = (e: MessageEvent) => {
        try {
          return JSON.parse(e.data as string);
        } catch {
          return undefined;
        }
      };
      es.addEventListener('job', (e) => {
        const j = parse(e) as Job | undefined;
        if (!j) return;
        setJob(j);
        if (j.progress) setStream((s) => ({ ...s, progress: j.progress }));
        setStream((s) => (s.state === 'connecting' || s.state === 'reconnecting' ? { ...s, state: 'live' } : s));
      });
      es.addEventListener('log', (e) => {
        const l = parse(e) as LogLine | undefined;
        if (l) push([l]);
      });
      es.addEventListener('progress', (e) => {
        const p = parse(e) as Progress | undefined;
        if (p) setStream((s) => ({ ...s, progress: p }));
      });
      es.addEventListener('end', (e) => {
        const j = parse(e) as Job | undefined;
        es?.close();
        es = undefined;
        if (j) finish(j);
      });
    }

    return () => {
      closed = true;
      es?.close();
      clearInterval(flushTimer);
      if (pollTimer) clearTimeout(pollTimer);
    };
  }, [jobId, pollMs, qc]);

  return stream;
}
