import { LabError } from '../lib/errors';

/** Ctrl-C during a run: the engine rolls back, stops the services and reports the run `interrupted`. */
export class Interrupted extends LabError {
  constructor() {
    super('interrupted (Ctrl-C): faults rolled back, services stopped', { exitCode: 130 });
  }
}
