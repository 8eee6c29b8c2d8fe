import type { LabConfig } from '../../lib/config';
import { dockerDriver } from './docker';
import { localDriver } from './local';
import type { RuntimeDriver } from './types';

export type { ProcessAction, ResumeAllResult, RuntimeDriver } from './types';

/** The driver LAB_RUNTIME / --runtime selected (parsed once in config). */
export const runtimeDriver = (c: LabConfig): RuntimeDriver => (c.runtime === 'docker' ? dockerDriver(c) : localDriver(c));
