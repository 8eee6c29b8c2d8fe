import { expect } from 'chai';
import { stampedeLine, stampedeScenario } from '../../../src/experiments/workloads/stampede';

/** E-008's figures for the storm's size plus the given modes' figures; every other per-mode figure as the run leaves it. */
const figures = (modes: Record<string, number | null>) => ({
  keyExpiries: 30,
  readers: 400,
  dbLatencyMs: 300,
  worstDbLoadsPerKey: 27.7,
  worstPeakSelectQps: 90,
  noneDbLoadsPerKey: NaN,
  singleflightDbLoadsPerKey: NaN,
  softTtlDbLoadsPerKey: NaN,
  ...modes,
});

describe('cache-stampede: the one line of a run', () => {
  it('shows each mode that ran with its DB loads per key per expiry and its p99, then the storm', () => {
    expect(
      stampedeLine(
        figures({
          noneDbLoadsPerKey: 27.7,
          noneP99Ms: 1200,
          noneStaleAnswers: 0,
          noneErrors: 0,
          softTtlDbLoadsPerKey: 1,
          softTtlP99Ms: 15,
          softTtlStaleAnswers: 380,
          softTtlErrors: 0,
        }),
      ),
    ).to.equal(
      'none: 27.7 DB loads/key/expiry, p99 1200 ms; soft-ttl: 1 DB loads/key/expiry, p99 15 ms, 380 stale; 30 key expiries, 400 readers, DB latency 300 ms',
    );
  });

  it('leaves out a mode whose figures are NaN, or null once read back from the journal', () => {
    const line = stampedeLine(
      figures({ singleflightDbLoadsPerKey: 1.2, singleflightP99Ms: 640, noneDbLoadsPerKey: null }),
    );
    expect(line).to.equal(
      'singleflight: 1.2 DB loads/key/expiry, p99 640 ms; 30 key expiries, 400 readers, DB latency 300 ms',
    );
    expect(line).to.not.match(/NaN|null|none:|soft-ttl:/);
  });

  it('names the errors of a mode when readers got any', () => {
    expect(stampedeLine(figures({ noneDbLoadsPerKey: 3, noneP99Ms: 900, noneErrors: 4 }))).to.match(
      /^none: 3 DB loads\/key\/expiry, p99 900 ms, 4 errors; /,
    );
  });

  it('says no mode ran rather than printing nothing', () => {
    expect(stampedeLine(figures({}))).to.equal(
      'no mode ran; 30 key expiries, 400 readers, DB latency 300 ms',
    );
  });

  it('is the line the kind gives the reports, and the figures it declares are all still declared (38: 3 + 2 worst + 11 per mode × 3)', () => {
    expect(stampedeScenario.figuresLine).to.equal(stampedeLine);
    expect(stampedeScenario.figures).to.have.length(38);
  });
});
