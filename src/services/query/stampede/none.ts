import { CacheOps, type Answer, type Deps, type Strategy } from './types';

/**
 * STAMPEDE=none — plain cache-aside, the baseline. Every request that misses loads the DB itself, so N
 * concurrent misses on one key are N identical queries: the thundering herd the other modes exist to stop.
 */
export class NoProtection implements Strategy {
  readonly name = 'none' as const;
  private readonly ops: CacheOps;
  constructor(d: Deps) {
    this.ops = new CacheOps(d);
  }
  async get(id: string): Promise<Answer> {
    const { entry } = await this.ops.read(id);
    if (entry) return this.ops.hit(entry);
    this.ops.miss();
    return this.ops.loadAndFill(id);
  }
  async idle() {}
}
