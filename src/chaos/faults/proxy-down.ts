import { z } from 'zod';
import { setProxyEnabled } from '../toxics';
import { defineFault, faultObject } from './define';
import { TOXIC_FIELDS } from './toxic';
import { timedUndo } from './timed-undo';

/** Toxiproxy's "down": the proxy is disabled (`enabled: false`), so every connection through it is refused. */
export const proxyDown = defineFault({
  type: 'proxy-down',
  summary: 'takes a proxy down (Toxiproxy enabled:false): connections through it are refused',
  schema: faultObject('proxy-down', {
    proxy: TOXIC_FIELDS.proxy,
    durationMs: TOXIC_FIELDS.durationMs,
  }),
  facts: ['toxicsAdded'],
  async apply(env, f) {
    await setProxyEnabled(env.c, f.proxy, false);
    const run = timedUndo({
      undo: () => setProxyEnabled(env.c, f.proxy, true),
      afterMs: f.durationMs,
      what: `proxy ${f.proxy} up again`,
      note: env.note,
    });
    return {
      description: `proxy ${f.proxy} down${f.durationMs ? ` for ${f.durationMs} ms` : ''}`,
      facts: { toxicsAdded: 1 },
      rollback: {
        name: `bring proxy ${f.proxy} up`,
        run,
        leftover: `proxy ${f.proxy} disabled`,
        fix: 'chaos heal',
      },
    };
  },
});

export type ProxyDownFault = z.infer<typeof proxyDown.schema>;
