import { expect } from 'chai';
import { countdown } from '../../src/runtime/progress';
import { sleep } from '../../src/lib/wait';

describe('progress countdown', () => {
  it('shows what is left and an ETA from the measured rate once the count goes down', async () => {
    const left = countdown('lag');
    expect(left(100)).to.equal('lag: 100 left');
    await sleep(200);
    const line = left(60); // 40 in ~0.2 s → 60 left in ~0.3 s
    expect(line).to.match(/^lag: 60 left of 100, ETA 1 s$/);
  });

  it('shows no ETA while the count is not going down', async () => {
    const left = countdown('backlog');
    left(10);
    await sleep(50);
    expect(left(12)).to.equal('backlog: 12 left');
  });
});
