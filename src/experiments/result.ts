/** What the command stream did, as the journal keeps it (other workloads leave it empty, or fill a part). */
export interface WorkloadStats {
  sent: number;
  ok: number;
  failed: number;
  /** commands re-sent because the service was down (connection refused: it never received them) */
  retried: number;
  latenciesMs: number[];
  /** the first failures, as the client saw them */
  failures: { seq: number; kind: string; productId: number; error: string }[];
}

/** Stats of nothing sent yet: fresh arrays each time (the driver pushes into them). */
export const emptyStats = (): WorkloadStats => ({
  sent: 0,
  ok: 0,
  failed: 0,
  retried: 0,
  latenciesMs: [],
  failures: [],
});
