import { Flags } from '@oclif/core';
import { LabCommand, table } from '../../base';
import { servicesUp } from '../../../runtime/services-up';
import { CACHE_INVALIDATION_MODES, SERVICE_NAMES, STAMPEDE_MODES } from '../../../runtime/services';
import { COMMAND_MODES } from '../../../services/command/config';
import { CONSUMER_MODES } from '../../../services/consumer/config';

export default class ServicesUp extends LabCommand {
  static override summary =
    'Run the schema migrations, then (re)start the lab services with the given modes.';
  static override description = `Services: ${SERVICE_NAMES.join(', ')} (query-service-2 only with --only). A running service is restarted so the modes take effect.`;
  static override examples = [
    '<%= config.bin %> services up',
    '<%= config.bin %> services up --command-mode direct --consumer-mode naive',
    '<%= config.bin %> services up --only command-service,outbox-relay --topic lab.test',
  ];
  static override flags = {
    only: Flags.string({
      description: 'comma list of services to start',
      delimiter: ',',
      multiple: true,
      options: SERVICE_NAMES,
    }),
    'command-mode': Flags.string({
      options: [...COMMAND_MODES],
      description:
        'command-service: outbox (transactional outbox) or direct (commit, then produce)',
    }),
    'consumer-mode': Flags.string({
      options: [...CONSUMER_MODES],
      description: 'consumer-service delivery semantics',
    }),
    invalidation: Flags.string({
      options: [...CACHE_INVALIDATION_MODES],
      description: 'query-service cache invalidation',
    }),
    stampede: Flags.string({
      options: [...STAMPEDE_MODES],
      description: 'query-service stampede protection',
    }),
    topic: Flags.string({
      description: 'domain topic for every service (LAB_TOPIC); the DLQ is <topic>.DLQ',
    }),
  };

  async run() {
    const { flags } = await this.parse(ServicesUp);
    const res = await servicesUp(this.lab, {
      only: flags.only,
      modes: {
        COMMAND_MODE: flags['command-mode'],
        CONSUMER_MODE: flags['consumer-mode'],
        CACHE_INVALIDATION: flags.invalidation,
        STAMPEDE: flags.stampede,
      },
      env: { LAB_TOPIC: flags.topic },
    });
    if (!this.jsonEnabled()) {
      this.log(
        table(
          res.started.map((s) => ({
            service: s.name,
            pid: s.pid,
            url: s.url,
            env: Object.entries(s.env)
              .filter(([k, v]) => v && !k.endsWith('_PORT') && k !== 'LAB_SERVICE_NAME')
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
          })),
        ),
      );
      for (const s of res.skipped) this.log(`skipped ${s.name}: ${s.reason}`);
    }
    return res;
  }
}
