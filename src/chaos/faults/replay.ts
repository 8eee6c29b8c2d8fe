import { z } from 'zod';
import { defineFault, faultObject } from './define';

export const replay = defineFault({
  type: 'replay',
  summary: "re-publishes the run's DLQ to its topic, `times` times in a row (dryRun: only counts)",
  schema: faultObject('replay', {
    dryRun: z.boolean().default(false),
    times: z.number().int().min(1).default(1),
  }),
  facts: ['replays'],
  async apply(env, f) {
    const results = [];
    for (let i = 0; i < f.times; i++) {
      const r = await env.port.replay(f.dryRun);
      env.note(`replay ${i + 1}/${f.times}${f.dryRun ? ' (dry run)' : ''}`, { result: r });
      results.push(r);
    }
    return {
      description: `replayed the DLQ ${f.times}×${f.dryRun ? ' (dry run)' : ''}`,
      facts: { replays: f.dryRun ? 0 : f.times },
      data: { results },
    };
  },
});
