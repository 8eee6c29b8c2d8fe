import { Args, Flags } from '@oclif/core';
import { LabCommand } from '../base';
import { FAULTS, faultTopic, inject, injectFlags } from '../../chaos/inject';
import { findExperiment } from '../../experiments/loader';

/** One flag per attribute of the registered fault kinds (src/chaos/faults), named after it: latencyMs → --latency-ms. */
const ATTRIBUTE_FLAGS = Object.fromEntries(
  injectFlags().map((a) => {
    const description = `${a.kinds.join(', ')}: ${a.name}${a.options ? ` (${a.options.join(' | ')})` : ''}${a.default !== undefined ? `, default ${String(a.default)}` : ''}`;
    return [
      a.flag,
      a.type === 'boolean'
        ? Flags.boolean({ description, allowNo: true })
        : Flags.string({ description }),
    ];
  }),
);

export default class Inject extends LabCommand {
  static override summary =
    'Inject one fault by hand: any fault kind of the experiment files, its attributes as flags.';
  static override description = `Faults: ${FAULTS.join(', ')} (see experiments/README.md, "Fault kinds"). Undo with \`chaos heal\` (a killed broker comes back with \`chaos up\`); with --duration-ms the fault is held that long, then undone.`;
  static override examples = [
    '<%= config.bin %> inject latency --target mysql --latency-ms 200',
    '<%= config.bin %> inject broker-kill --exp E-009',
    '<%= config.bin %> inject down --target kafka-2-internal --duration-ms 10000',
  ];
  // no `options`: an unknown name gets the lab's UnknownNameError, listing the valid ones
  static override args = {
    fault: Args.string({ required: true, description: 'fault kind (or alias) to inject' }),
  };
  static override flags = {
    exp: Flags.string({
      description: 'experiment this fault belongs to (checked to exist; recorded in the output)',
    }),
    target: Flags.string({
      description:
        'proxy (mysql, redis, kafka-N, kafka-N-internal), broker (kafka-N) or service name; broker faults default to the leader of partition 0 of --topic',
    }),
    topic: Flags.string({
      description:
        "broker faults without --target: hit the leader of this topic's partition 0 (default: a live topic of --exp, else lab.probe); replay and registry faults: the topic",
    }),
    ...ATTRIBUTE_FLAGS,
  };

  async run() {
    const { args, flags } = await this.parse(Inject);
    const exp = flags.exp ? findExperiment(this.lab.root, flags.exp).id : undefined;
    const attributes = Object.fromEntries(
      Object.keys(ATTRIBUTE_FLAGS).map((f) => [
        f,
        (flags as Record<string, string | boolean | undefined>)[f],
      ]),
    );
    const { fault, message } = await inject(
      this.lab,
      args.fault,
      { target: flags.target, flags: attributes },
      await faultTopic(this.lab, { topic: flags.topic, exp }),
    );
    if (!this.jsonEnabled()) this.log(`${exp ? `[${exp}] ` : ''}${message}`);
    return { fault: args.fault, applied: fault, experiment: exp ?? null, result: message };
  }
}
