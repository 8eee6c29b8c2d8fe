import { expect } from 'chai';
import { FAULTS, flagName, injectedFault, injectFlags } from '../../src/chaos/inject';
import { FAULT_TYPES } from '../../src/chaos/faults';
import { loadConfig } from '../../src/lib/config';
import { UnknownNameError } from '../../src/lib/errors';

const c = loadConfig({});
const fault = (
  name: string,
  target: string | undefined,
  flags: Record<string, string | boolean | undefined> = {},
) => injectedFault(c, name, { target, flags }, 'lab.probe');
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );

describe('chaos inject (the fault registry from the command line)', () => {
  it('accepts every registered kind and the names it had before the registry', () => {
    expect(FAULTS).to.include.members([
      ...FAULT_TYPES,
      'down',
      'reset-peer',
      'broker-kill',
      'broker-pause',
      'broker-resume',
      'service-crash',
    ]);
  });

  it('names flags after the attributes, units included', () => {
    expect(
      [
        'latencyMs',
        'jitterMs',
        'rateKBps',
        'timeoutMs',
        'averageSizeBytes',
        'delayUs',
        'dryRun',
      ].map(flagName),
    ).to.deep.equal([
      'latency-ms',
      'jitter-ms',
      'rate-kbps',
      'timeout-ms',
      'average-size-bytes',
      'delay-us',
      'dry-run',
    ]);
    expect(injectFlags().map((f) => f.flag)).to.include.members([
      'latency-ms',
      'jitter-ms',
      'rate-kbps',
      'timeout-ms',
      'stream',
      'toxicity',
      'duration-ms',
    ]);
  });

  it("keeps today's flags: latency --target mysql --latency-ms 300 --jitter-ms 20 --stream upstream --toxicity 0.5", async () => {
    expect(
      await fault('latency', 'mysql', {
        'latency-ms': '300',
        'jitter-ms': '20',
        stream: 'upstream',
        toxicity: '0.5',
      }),
    ).to.deep.equal({
      type: 'latency',
      proxy: 'mysql',
      latencyMs: 300,
      jitterMs: 20,
      stream: 'upstream',
      toxicity: 0.5,
    });
    expect(await fault('latency', 'mysql')).to.include({ latencyMs: 200, jitterMs: 0 }); // the by-hand default
    expect(await fault('bandwidth', 'redis', { 'rate-kbps': '32' })).to.include({
      type: 'bandwidth',
      rateKBps: 32,
    });
  });

  it('maps the old names onto kinds: down → proxy-down, reset-peer → reset_peer, broker-kill → broker kill', async () => {
    expect(await fault('down', 'kafka-2-internal')).to.deep.equal({
      type: 'proxy-down',
      proxy: 'kafka-2-internal',
    });
    expect(await fault('reset-peer', 'mysql', { 'timeout-ms': '100' })).to.include({
      type: 'reset_peer',
      timeoutMs: 100,
    });
    expect(await fault('broker-kill', 'kafka-2')).to.deep.equal({
      type: 'broker',
      action: 'kill',
      broker: 2,
    });
    expect(await fault('service-crash', 'command-service')).to.deep.equal({
      type: 'service',
      action: 'crash',
      service: 'command-service',
    });
  });

  it('refuses an unknown fault name, listing the valid ones', async () => {
    const err = await rejection(fault('meteor', 'mysql'));
    expect(err).to.be.instanceOf(UnknownNameError);
    expect(err.message).to.match(
      /unknown fault "meteor"; valid: failpoint, latency, .*down, reset-peer/,
    );
  });

  it("refuses a flag of another kind, listing this kind's flags", async () => {
    const err = await rejection(
      fault('bandwidth', 'mysql', { 'rate-kbps': '8', 'latency-ms': '5' }),
    );
    expect(err.message).to.equal(
      '--latency-ms is not an attribute of bandwidth; its flags: --stream, --toxicity, --duration-ms, --rate-kbps, --target',
    );
  });

  it('refuses a toxic without --target and a value that is not a number, naming the flag', async () => {
    expect((await rejection(fault('latency', undefined))).message).to.match(
      /^latency needs --target <proxy>/,
    );
    expect((await rejection(fault('latency', 'mysql', { 'latency-ms': 'slow' }))).message).to.equal(
      '--latency-ms slow: expected a number',
    );
    expect((await rejection(fault('slicer', 'mysql'))).message).to.equal(
      'slicer: --average-size-bytes: Required',
    );
  });
});
