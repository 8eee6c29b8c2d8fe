import type { StampedeMode } from '../config';
import { NoProtection } from './none';
import { SingleFlight } from './singleflight';
import { SoftTtl } from './soft-ttl';
import type { Deps, Strategy } from './types';

export function strategyFor(mode: StampedeMode, d: Deps): Strategy {
  switch (mode) {
    case 'none':
      return new NoProtection(d);
    case 'singleflight':
      return new SingleFlight(d);
    case 'soft-ttl':
      return new SoftTtl(d);
  }
}
export type { Answer, Source, Strategy } from './types';
