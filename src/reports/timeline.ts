import type { TimelineEntry } from '../experiments/engine';
import type { Marker } from './svg-plot';

/**
 * Which timeline notes are worth a vertical line on the plots. Faults and rollbacks carry their `kind` (the
 * engine records them); other notes are prose (watcher.ts, workloads), matched by their wording.
 */
const KINDS: [Marker['kind'], RegExp][] = [
  ['crash', /\bdied\b|^kill -9\b/],
  ['heal', /^rollback\b|\bremoved after\b|^brokers restarted|^resume\b/],
  ['fault', /^armed\b|^toxic\b|^(kill|pause|restart) (kafka|broker)|^stopped\b|^(start|restart)ed\b|^replay\b|^fault\b/],
  ['phase', /^workload\b|^scenario\b|^quiescen/],
];

export function markerKind(what: string): Marker['kind'] | undefined {
  return KINDS.find(([, re]) => re.test(what))?.[0];
}

/** Numbered markers (numbers match the report's timeline list); x is seconds since the run started. */
export function timelineMarkers(timeline: TimelineEntry[], offsetSec = 0): Marker[] {
  const out: Marker[] = [];
  timeline.forEach((t, i) => {
    const kind = t.kind ?? markerKind(t.what);
    if (kind) out.push({ xSec: t.tMs / 1000 - offsetSec, n: i + 1, kind, label: t.what });
  });
  return out;
}
