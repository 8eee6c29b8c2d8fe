import { Args, Flags } from '@oclif/core';
import { LabCommand } from '../../base';
import { DEFAULT_TOPIC } from '../../../lib/events';
import { resetOffsets } from '../../../services/replay-worker/offset-reset';

export default class OffsetsReset extends LabCommand {
  static override summary =
    "Move a consumer group's offsets (earliest, latest, an offset or a timestamp). Dry run unless --execute.";
  static override examples = [
    '<%= config.bin %> offsets reset lab-consumer --to earliest',
    '<%= config.bin %> offsets reset lab-consumer --to timestamp --timestamp 2026-11-25T21:00:00Z --execute',
  ];
  static override args = { group: Args.string({ required: true }) };
  static override flags = {
    topic: Flags.string({ default: DEFAULT_TOPIC }),
    to: Flags.string({ options: ['earliest', 'latest', 'offset', 'timestamp'], required: true }),
    offset: Flags.integer({ description: 'with --to offset' }),
    timestamp: Flags.string({ description: 'with --to timestamp: epoch ms or ISO date' }),
    execute: Flags.boolean({
      description: 'really move the offsets (the group must be empty: stop its consumers first)',
    }),
  };

  async run() {
    const { args, flags } = await this.parse(OffsetsReset);
    const r = await resetOffsets(this.lab, {
      groupId: args.group,
      topic: flags.topic,
      to: flags.to as 'earliest' | 'latest' | 'offset' | 'timestamp',
      offset: flags.offset,
      timestamp:
        flags.timestamp === undefined
          ? undefined
          : /^\d+$/.test(flags.timestamp)
            ? Number(flags.timestamp)
            : Date.parse(flags.timestamp),
      dryRun: !flags.execute,
    });
    if (!this.jsonEnabled()) this.log(JSON.stringify(r, null, 2));
    return r;
  }
}
