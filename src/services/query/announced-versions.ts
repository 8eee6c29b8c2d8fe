/**
 * The newest version the change events announced to this process, per product: what lets query-service tell, at
 * fill time, that the row it loaded is already older than a committed version (a stale fill). `del` has no other
 * way to know — its DEL landed on a key that was not there yet — so this is how the DEL race is counted where it
 * happens (lab_query_stale_fills_applied_total), next to what `versioned` refuses.
 * Bounded: past `capacity` products the oldest entries are forgotten (a forgotten product's stale fill goes
 * uncounted, never miscounted).
 */
export class AnnouncedVersions {
  private readonly versions = new Map<string, number>();
  constructor(private readonly capacity = 100_000) {}

  record(id: string, version: number): void {
    const known = this.versions.get(id);
    if (known !== undefined && known >= version) return;
    this.versions.delete(id); // re-inserted last: Map order is then least recently announced first
    this.versions.set(id, version);
    if (this.versions.size > this.capacity)
      this.versions.delete(this.versions.keys().next().value as string);
  }

  get(id: string): number | undefined {
    return this.versions.get(id);
  }
}
