import { SERVICE_NAMES, SERVICES, type ServiceName } from '../runtime/services';
import { COMMAND_SETTINGS } from '../services/command/config';
import { CONSUMER_SETTINGS } from '../services/consumer/config';
import { RELAY_SETTINGS } from '../services/outbox-relay/config';
import { QUERY_SETTINGS } from '../services/query/config';
import { REPLAY_SETTINGS } from '../services/replay-worker/config';

/**
 * What every lab service reads besides its own settings (src/services/common/app.ts): its log level, the
 * failpoints armed at start, and how long a crash failpoint waits for a last Prometheus scrape.
 */
export const COMMON_SERVICE_SETTINGS = [
  'LAB_LOG_LEVEL',
  'LAB_FAILPOINTS',
  'LAB_CRASH_SCRAPE_WAIT_MS',
] as const;

/**
 * What keeps one run's data apart from another's and from tests': the engine sets these for every service of
 * every run (src/experiments/watcher.ts; the runtime adds the process name), and an experiment's env, applied
 * after them, would otherwise replace them — a run reading another's topic, group or cache, or its metrics
 * (`run` label) showing up in another's verdict.
 */
export const ISOLATION_KEYS = [
  'LAB_TOPIC',
  'LAB_CONSUMER_GROUP',
  'LAB_QUERY_GROUP',
  'LAB_RUN_ID',
  'QUERY_CACHE_PREFIX',
  'SERVICE_INSTANCE',
  'LAB_SERVICE_NAME',
] as const;

/** The problem when `name` is an isolation key (at `where`, e.g. `services.consumer-service.env`), else undefined. */
export function isolationProblem(name: string, where: string): string | undefined {
  if (!(ISOLATION_KEYS as readonly string[]).includes(name)) return undefined;
  return `${where}.${name}: the engine sets ${name} for each run, to keep runs apart (their topics, groups, caches and metrics); remove it from the file`;
}

/** Each service's own settings, by its entry (query-service-2 is a second query-service). */
const SETTINGS_BY_ENTRY: Record<string, readonly string[]> = {
  command: COMMAND_SETTINGS,
  consumer: CONSUMER_SETTINGS,
  'outbox-relay': RELAY_SETTINGS,
  query: QUERY_SETTINGS,
  'replay-worker': REPLAY_SETTINGS,
};

/** Variables that change the process rather than the service: the reason to refuse them gets its own words. */
const PROCESS_LEVEL =
  /^(NODE_\w*|LD_\w*|DYLD_\w*|UV_\w*|PATH|HOME|SHELL|TMPDIR|IFS|BASH_ENV|ENV|PYTHON\w*|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|OPENSSL_\w*|SSL_CERT_\w*|HTTPS?_PROXY|NO_PROXY)$/i;

/** The variables an experiment may set for this service (its isolation keys excepted), sorted; undefined for a name that is not a lab service. */
export function allowedServiceEnv(service: string): string[] | undefined {
  if (!(SERVICE_NAMES as string[]).includes(service)) return undefined;
  const own = SETTINGS_BY_ENTRY[SERVICES[service as ServiceName].entry] ?? [];
  const isolation: readonly string[] = ISOLATION_KEYS;
  return [...new Set([...own, ...COMMON_SERVICE_SETTINGS])]
    .filter((name) => !isolation.includes(name))
    .sort();
}

/**
 * Checks an experiment's env for one service against that service's own settings (its config module's
 * variables plus the common ones). Returns one problem per refused name, empty when all pass; `where` names
 * the place in the experiment file (`services.<name>.env` by default, or a fault's env).
 * Pure: the loader turns the problems into its typed error.
 */
export function checkServiceEnv(
  service: string,
  env: Record<string, string>,
  where = `services.${service}.env`,
): string[] {
  const allowed = allowedServiceEnv(service);
  if (!allowed)
    return [`${where}: ${service} is not a lab service: known are ${SERVICE_NAMES.join(', ')}`];
  return Object.keys(env)
    .filter((name) => !allowed.includes(name))
    .map((name) => {
      const isolation = isolationProblem(name, where);
      if (isolation) return isolation;
      const why = PROCESS_LEVEL.test(name)
        ? ' (it changes how the process runs, not what the service does)'
        : '';
      return `${where}.${name} is not a setting of ${service}${why}: allowed are ${allowed.join(', ')}`;
    });
}
