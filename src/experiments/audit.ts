/** The audit figures of a run: the command audit's (workloads/commands/audit.ts) or a workload kind's own. */
export type AuditFigures = Record<string, number>;

/** A time series the workload measured itself (e.g. per-mode DB queries/s), drawn by the HTML report. */
export interface Plot {
  title: string;
  unit?: string;
  /** x is seconds since the workload started */
  series: { name: string; points: [number, number][] }[];
}

export interface AuditResult {
  figures: AuditFigures;
  /** a scenario's extra report sections (e.g. a Jepsen-style table) and machine-readable detail */
  sections?: { title: string; markdown: string }[];
  plots?: Plot[];
  data?: unknown;
  /** event ids behind the figures that are anomalies, so a report can name them (first 50 each) */
  ids: AuditIds;
}

/** Event ids behind the anomaly figures, so a report can name them (first 50 each). */
export interface AuditIds {
  lostBeforeTopic: string[];
  notApplied: string[];
  duplicateEffects: { eventId: string; applied: number }[];
  topicDuplicates: { eventId: string; records: number }[];
  staleReads: { productId: number; served: number; committed: number }[];
  /** events whose first record came after a record of a newer version of the same product */
  reordered?: { eventId: string; productId: number; version: number; after: number }[];
  /** each time the read model's version went down (the database's own record, product_view_regression) */
  viewBackwards?: { productId: number; from: number; to: number }[];
}
