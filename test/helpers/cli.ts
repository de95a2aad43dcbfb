/** Running the `orgadmin` command as a user does (a real process through bin/orgadmin.js), with extra environment. */
import { spawn } from 'node:child_process';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function orgadminCli(env: () => Record<string, string>): (...args: string[]) => Promise<CliResult> {
  return (...args) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/orgadmin.js', ...args], {
        env: { ...process.env, ...env() },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
}
