import { Args, Flags } from '@oclif/core';
import { LabCommand } from '../base';
import { FAULTS, faultTopic, inject } from '../../chaos/catalog';
import { findExperiment } from '../../experiments/loader';

export default class Inject extends LabCommand {
  static override summary = 'Inject one fault by hand: a toxic on a proxy, or a signal to a broker or service.';
  static override description = `Faults: ${FAULTS.join(', ')}. Undo with \`chaos heal\` (a killed broker comes back with \`chaos up\`).`;
  static override examples = [
    '<%= config.bin %> inject latency --target mysql --latency-ms 200',
    '<%= config.bin %> inject broker-kill --exp E-009',
    '<%= config.bin %> inject down --target kafka-2-internal',
  ];
  static override args = { fault: Args.string({ required: true, options: [...FAULTS], description: 'fault to inject' }) };
  static override flags = {
    exp: Flags.string({ description: 'experiment this fault belongs to (checked to exist; recorded in the output)' }),
    target: Flags.string({ description: 'proxy (mysql, redis, kafka-N, kafka-N-internal), broker (kafka-N) or service name; broker faults default to the leader of partition 0 of --topic' }),
    topic: Flags.string({ description: 'broker faults without --target: hit the leader of this topic\'s partition 0 (default: a live topic of --exp, else lab.probe)' }),
    'latency-ms': Flags.integer({ description: 'latency toxic: added delay' }),
    'jitter-ms': Flags.integer({ description: 'latency toxic: jitter' }),
    'rate-kbps': Flags.integer({ description: 'bandwidth toxic: KB/s' }),
    'timeout-ms': Flags.integer({ description: 'timeout / reset-peer toxic: ms before the connection is cut (0 = never)' }),
    stream: Flags.string({ options: ['upstream', 'downstream'], default: 'downstream' }),
    toxicity: Flags.string({ description: 'probability 0..1 that a connection is affected', default: '1' }),
  };

  async run() {
    const { args, flags } = await this.parse(Inject);
    const exp = flags.exp ? findExperiment(this.lab.root, flags.exp).id : undefined;
    const msg = await inject(this.lab, args.fault, {
      target: flags.target, latencyMs: flags['latency-ms'], jitterMs: flags['jitter-ms'], rateKbps: flags['rate-kbps'],
      timeoutMs: flags['timeout-ms'], stream: flags.stream as 'upstream' | 'downstream', toxicity: Number(flags.toxicity),
    }, await faultTopic(this.lab, { topic: flags.topic, exp }));
    if (!this.jsonEnabled()) this.log(`${exp ? `[${exp}] ` : ''}${msg}`);
    return { fault: args.fault, experiment: exp ?? null, result: msg };
  }
}
