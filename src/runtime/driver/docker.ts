import Docker from 'dockerode';
import type { LabConfig } from '../../lib/config';
import { LabError } from '../../lib/errors';
import type { ResumeAllResult, RuntimeDriver } from './types';

/** docker-compose.yml names every container `lab-<component>` (container_name), so faults find them by name. */
export const containerName = (component: string) => `lab-${component}`;

/** The Docker Engine refused or could not be reached: the message says which container and how to check. */
export class DockerRuntimeError extends LabError {}

/**
 * Process faults against the containers of docker-compose.yml through the Docker Engine API (dockerode reads
 * DOCKER_HOST, else /var/run/docker.sock). kill = POST /containers/<name>/kill?signal=SIGKILL, pause/unpause =
 * the cgroup freezer (like SIGSTOP: sockets stay open), revive = POST /containers/<name>/start.
 */
export function dockerDriver(_c: LabConfig, docker: Docker = new Docker()): RuntimeDriver {
  const call = async (component: string, what: string, fn: (ct: Docker.Container) => Promise<unknown>) => {
    const name = containerName(component);
    try {
      await fn(docker.getContainer(name));
    } catch (e) {
      const err = e as { statusCode?: number; json?: { message?: string }; message: string };
      const why = err.json?.message ?? err.message;
      const fix =
        err.statusCode === 404 ? `no container ${name}: start the stack with \`docker compose up -d\`` :
        err.statusCode === 409 ? `${name} is not in a state to ${what} (\`docker ps -a\` shows it)` :
        err.statusCode ? `check \`docker inspect ${name}\`` : 'is the Docker Engine running and DOCKER_HOST right?';
      throw new DockerRuntimeError(`docker ${what} ${name} failed: ${why}; ${fix}`, { cause: e });
    }
  };
  /** A container that does not exist is not paused (nothing to resume); any other inspect failure throws. */
  const isPaused = async (component: string): Promise<boolean> => {
    try {
      return !!(await docker.getContainer(containerName(component)).inspect()).State?.Paused;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return false;
      throw new DockerRuntimeError(
        `docker inspect ${containerName(component)} failed: ${(e as Error).message}; is the Docker Engine running and DOCKER_HOST right?`,
        { cause: e },
      );
    }
  };
  return {
    name: 'docker',
    kill: (comp) => call(comp, 'kill', (ct) => ct.kill({ signal: 'SIGKILL' })),
    pause: (comp) => call(comp, 'pause', (ct) => ct.pause()),
    resume: (comp) => call(comp, 'unpause', (ct) => ct.unpause()),
    revive: (comp) => call(comp, 'start', (ct) => ct.start()),
    resumeAll: async (comps) => {
      const out: ResumeAllResult = { resumed: [], failed: [] };
      for (const comp of comps) {
        try {
          // Only paused containers: unpausing a running one is a 409 we need not provoke.
          if (!(await isPaused(comp))) continue;
          await call(comp, 'unpause', (ct) => ct.unpause());
          out.resumed.push(comp);
        } catch (e) {
          out.failed.push({ component: comp, error: e as Error });
        }
      }
      return out;
    },
  };
}
