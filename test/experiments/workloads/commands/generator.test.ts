import { expect } from 'chai';
import { generateCommands } from '../../../../src/experiments/workloads/commands/generator';

const spec = { commands: 50, products: 10, payloadBytes: 24 };

describe('the command generator (seeded)', () => {
  it('gives the same commands, in the same order, with the same values for the same seed', () => {
    expect(generateCommands(spec, 42)).to.deep.equal(generateCommands(spec, 42));
  });

  it('gives other values for another seed', () => {
    expect(generateCommands(spec, 43)).to.not.deep.equal(generateCommands(spec, 42));
  });

  it('creates every product once first, then updates only products it created', () => {
    const cmds = generateCommands(spec, 7, 101);
    expect(cmds).to.have.length(50);
    expect(cmds.map((c) => c.seq)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    const creates = cmds.slice(0, 10);
    expect(creates.every((c) => c.kind === 'create')).to.equal(true);
    expect(creates.map((c) => c.productId)).to.deep.equal(
      Array.from({ length: 10 }, (_, i) => 101 + i),
    );
    for (const c of cmds.slice(10)) {
      expect(c.kind).to.equal('update');
      expect(c.productId).to.be.within(101, 110);
    }
  });

  it('pads a created name to the payload size and keeps prices and stock in range', () => {
    for (const c of generateCommands(spec, 1)) {
      if (c.kind === 'create')
        expect(c.body.name)
          .to.have.length(24)
          .and.match(/^product-\d+·+$/);
      expect(c.body.price).to.be.within(1, 1000);
      expect(Number.isInteger(c.body.stock) && c.body.stock >= 0 && c.body.stock < 100).to.equal(
        true,
      );
    }
  });

  it('sends only creates when there are fewer commands than products', () => {
    const cmds = generateCommands({ commands: 3, products: 10, payloadBytes: 0 }, 5);
    expect(cmds.map((c) => c.kind)).to.deep.equal(['create', 'create', 'create']);
  });
});
