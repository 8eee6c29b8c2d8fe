import type { LabConfig, PortName } from '../../lib/config';
import type { ProcessSpec } from '../supervisor';

/** One process of the stack: how to prepare it, run it, and tell that it is healthy. */
export interface Component {
  name: string;
  /** Ports it binds, with the config key that moves them (for PortInUseError's fix). */
  ports: { key: PortName; port: number }[];
  /** Write config files, initialise data dirs. Idempotent. */
  prepare(): Promise<void>;
  spec(): ProcessSpec;
  /** A quick probe; the stack polls it until `startTimeoutMs`. */
  healthy(): Promise<boolean>;
  startTimeoutMs: number;
  /** Runs once after the first healthy probe following a start (e.g. create the `lab` database). */
  afterStart?(): Promise<void>;
  /** Scrape target this component exposes to Prometheus, if any. */
  scrape?: { job: string; target: string; labels?: Record<string, string>; path?: string; interval?: string; timeout?: string };
}

export type ComponentFactory = (c: LabConfig) => Component[];
