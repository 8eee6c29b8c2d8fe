import { prng } from '../api';

/**
 * A seeded workload: the same seed gives the same commands, in the same order, with the same values.
 * First one create per product, then updates of products picked at random.
 */
export type Command =
  | {
      seq: number;
      kind: 'create';
      productId: number;
      body: { id: number; name: string; price: number; stock: number };
    }
  | {
      seq: number;
      kind: 'update';
      productId: number;
      body: { price: number; stock: number; name?: string };
    };

export interface WorkloadSpec {
  commands: number;
  products: number;
  payloadBytes: number;
}

export function generateCommands(spec: WorkloadSpec, seed: number, firstProductId = 1): Command[] {
  const rand = prng(seed);
  const pad = (s: string) =>
    s.length >= spec.payloadBytes ? s : s + '·'.repeat(spec.payloadBytes - s.length);
  const out: Command[] = [];
  const creates = Math.min(spec.products, spec.commands);
  for (let i = 0; i < creates; i++) {
    const id = firstProductId + i;
    out.push({
      seq: out.length + 1,
      kind: 'create',
      productId: id,
      body: { id, name: pad(`product-${id}`), price: price(rand), stock: Math.floor(rand() * 100) },
    });
  }
  while (out.length < spec.commands) {
    const id = firstProductId + Math.floor(rand() * creates);
    out.push({
      seq: out.length + 1,
      kind: 'update',
      productId: id,
      body: { price: price(rand), stock: Math.floor(rand() * 100) },
    });
  }
  return out;
}

const price = (rand: () => number) => Math.round((1 + rand() * 999) * 100) / 100;
