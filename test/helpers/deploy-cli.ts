/**
 * The real auth0-deploy-cli (the pinned devDependency) as its own process against an auth0-local, trusting its CA
 * through NODE_EXTRA_CA_CERTS — exactly how a user would point it at a tenant.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DEPLOY_CLI = fileURLToPath(
  new URL('../../node_modules/auth0-deploy-cli/lib/index.js', import.meta.url),
);

export interface DeployCliRun {
  code: number | null;
  output: string;
}

/** Runs `a0deploy <args> --config_file <configFile> --env=false`; kills it after `timeoutMs`. */
export function runDeployCli(
  local: { caCertPath: string },
  configFile: string,
  args: string[],
  timeoutMs: number,
): Promise<DeployCliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEPLOY_CLI, ...args, '--config_file', configFile, '--env=false'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: local.caCertPath, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`a0deploy ${args.join(' ')} did not finish in time:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
