import { expect } from 'chai';
import { FailpointError, Failpoints } from '../../src/lib/failpoints';

describe('failpoint specs (LAB_FAILPOINTS)', () => {
  it('parses name=action[:ms][@N][+] entries separated by ;', () => {
    const fp = new Failpoints();
    fp.armFromSpec(
      ' relay.after-publish-before-mark=crash@5 ; query.before-db-load=delay:200@1+;tx.before-commit=error ',
    );
    expect(
      fp.list().map(({ name, action, after, delayMs, sticky }) => ({
        name,
        action,
        after,
        delayMs,
        sticky,
      })),
    ).to.deep.equal([
      {
        name: 'relay.after-publish-before-mark',
        action: 'crash',
        after: 5,
        delayMs: 0,
        sticky: false,
      },
      { name: 'query.before-db-load', action: 'delay', after: 1, delayMs: 200, sticky: true },
      { name: 'tx.before-commit', action: 'error', after: 1, delayMs: 0, sticky: false },
    ]);
  });

  it('treats an empty or missing spec as nothing armed', () => {
    const fp = new Failpoints();
    fp.armFromSpec('');
    fp.armFromSpec(undefined);
    expect(fp.list()).to.deep.equal([]);
  });

  it('rejects a malformed entry with the expected syntax', () => {
    expect(() => new Failpoints().armFromSpec('tx.before-commit=explode')).to.throw(
      /bad LAB_FAILPOINTS entry "tx.before-commit=explode": expected name=crash\|error\|delay/,
    );
  });

  it('rejects an unknown failpoint name listing the valid ones', () => {
    expect(() => new Failpoints().armFromSpec('relay.sometime=crash')).to.throw(
      /unknown failpoint "relay.sometime"; valid: .*relay.after-publish-before-mark/,
    );
  });

  it('fires on exactly the N-th pass, then disarms', async () => {
    const fp = new Failpoints();
    fp.armFromSpec('tx.before-commit=error@3');
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(
        await fp.hit('tx.before-commit').then(
          () => 'pass',
          (e) => (e instanceof FailpointError ? 'fired' : 'other'),
        ),
      );
    expect(outcomes).to.deep.equal(['pass', 'pass', 'fired', 'pass', 'pass']);
    expect(fp.list()).to.deep.equal([]);
  });

  it('with +, keeps firing from the N-th pass on', async () => {
    const fp = new Failpoints();
    fp.armFromSpec('tx.before-commit=error@2+');
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++)
      outcomes.push(
        await fp.hit('tx.before-commit').then(
          () => 'pass',
          () => 'fired',
        ),
      );
    expect(outcomes).to.deep.equal(['pass', 'fired', 'fired', 'fired']);
  });

  it('holds a delay for about its milliseconds', async () => {
    const fp = new Failpoints();
    fp.armFromSpec('query.before-db-load=delay:80');
    const t0 = Date.now();
    await fp.hit('query.before-db-load');
    expect(Date.now() - t0).to.be.within(70, 1000);
  });
});

describe('a failpoint armed for a key', () => {
  it('counts only the passes that concern its key, and fires on the after-th of those', async () => {
    const fp = new Failpoints();
    fp.arm('relay.before-publish', { action: 'error', after: 2, key: '7' });
    await fp.hit('relay.before-publish', ['1', '2']);
    await fp.hit('relay.before-publish');
    await fp.hit('relay.before-publish', ['7']);
    expect(fp.list()[0]).to.include({ key: '7', passes: 1, fired: 0 });
    let thrown: unknown;
    await fp.hit('relay.before-publish', ['3', '7']).catch((e: unknown) => (thrown = e));
    expect(thrown).to.be.instanceOf(FailpointError);
    expect(fp.list(), 'a one-shot failpoint disarms itself').to.deep.equal([]);
  });
});
