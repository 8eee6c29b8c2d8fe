import { LabCommand, table } from '../../base';
import { listExperimentFiles, loadExperimentFile } from '../../../experiments/loader';

export default class ExpList extends LabCommand {
  static override summary =
    'List the experiments, their expected outcome, and whether each file is valid.';

  async run() {
    const rows = listExperimentFiles(this.lab.root).map((f) => {
      try {
        const { experiment: e } = loadExperimentFile(f.file);
        return {
          id: e.id,
          expected: e.expected === 'controlled' ? '✅ controlled' : '❌ reproduced',
          title: e.title,
          valid: 'yes',
        };
      } catch (err) {
        return {
          id: f.id,
          expected: '',
          title: (err as Error).message.split('\n')[0],
          valid: 'NO',
        };
      }
    });
    if (!this.jsonEnabled()) this.log(table(rows));
    return rows;
  }
}
