import { expect } from 'chai';
import { crossed, parseSs } from '../../../src/chaos/faults/proxy-traffic';

const SS = [
  '0      0      127.0.0.1:13306  127.0.0.1:51000 users:(("toxiproxy",pid=42,fd=9))',
  '\t cubic wscale:7,7 rto:204 bytes_sent:900 bytes_acked:901 bytes_received:1200 segs_out:9',
  '0      0      127.0.0.1:13306  127.0.0.1:51002 users:(("node",pid=77,fd=21))',
  '\t cubic bytes_received:5000',
  '0      0      127.0.0.1:13306  127.0.0.1:51004 users:(("toxiproxy",pid=42,fd=11))',
  '\t cubic rto:204 segs_out:1',
].join('\n');

describe('the traffic a toxic saw', () => {
  it("keeps Toxiproxy's own sockets from ss, with the bytes the kernel received on each (0 when none yet)", () => {
    expect([...parseSs(SS, 42)]).to.deep.equal([
      ['127.0.0.1:13306 127.0.0.1:51000', 1200],
      ['127.0.0.1:13306 127.0.0.1:51004', 0],
    ]);
  });

  it('took effect when bytes grew on a connection open at both readings', () => {
    const r = crossed(new Map([['a', 10]]), new Map([['a', 15]]));
    expect(r).to.deep.equal({ took: true, detail: '5 bytes entered on 1 connection(s)' });
  });

  it('took effect when a connection opened with data, or closed, while it was there', () => {
    expect(crossed(new Map(), new Map([['b', 3]])).took).to.equal(true);
    expect(crossed(new Map([['a', 10]]), new Map()).detail).to.equal(
      '0 bytes entered on 0 connection(s), 1 closed',
    );
  });

  it('had no effect on idle connections, on a new one that sent nothing, or with none at all', () => {
    expect(
      crossed(
        new Map([['a', 10]]),
        new Map([
          ['a', 10],
          ['b', 0],
        ]),
      ),
    ).to.deep.equal({
      took: false,
      detail: 'no bytes entered on 2 open connection(s), none opened or closed with data',
    });
    expect(crossed(new Map(), new Map()).took).to.equal(false);
  });
});
