/**
 * A contender's child process: spawned with its output captured (the tail kept), its peak resident set size sampled
 * from `/proc/<pid>/status` (`VmHWM`, the kernel's high-water mark, so a sample taken any time before the process
 * exits holds the peak so far), and helpers to wait for a line or for the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Every child still running, so that an interrupted benchmark can kill them all. */
export const runningChildren = new Set<ChildProcess>();

const TAIL_CHARS = 64 * 1024;
const SAMPLE_EVERY_MS = 250;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last 64 KiB of stdout and stderr together. */
  output(): string;
  /** All of stdout (for children that report a result there). */
  stdout(): string;
  /** Peak resident set size seen so far, in bytes (VmHWM); sampled every 250 ms and on `sample()`. */
  peakRssBytes(): number;
  /** Reads VmHWM now (call it right before signalling the process). */
  sample(): void;
  /** Resolves once the output contains `text`; rejects when the process exits first or after `timeoutMs`. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  readonly exited: Promise<Exit>;
  kill(signal: NodeJS.Signals): void;
}

/** VmHWM of a live process, in bytes; undefined once it is gone. */
export function vmHwmBytes(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function startChild(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void },
): Child {
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd ?? process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command} ${args.join(' ')}`);
  const pid = child.pid;
  runningChildren.add(child);
  let tail = '';
  let stdout = '';
  let peak = 0;
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer, isStdout: boolean): void => {
    const text = chunk.toString('utf8');
    if (isStdout) stdout += text;
    tail = (tail + text).slice(-TAIL_CHARS);
    if (options.onLine) for (const line of text.split('\n')) if (line.trim()) options.onLine(line);
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', (chunk: Buffer) => onData(chunk, true));
  child.stderr.on('data', (chunk: Buffer) => onData(chunk, false));
  const sample = (): void => {
    const value = vmHwmBytes(pid);
    if (value !== undefined && value > peak) peak = value;
  };
  sample();
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      runningChildren.delete(child);
      for (const listener of listeners) listener();
      resolve({ code, signal });
    });
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    pid,
    process: child,
    output: () => tail,
    stdout: () => stdout,
    peakRssBytes: () => peak,
    sample,
    exited,
    kill(signal) {
      if (!gone()) {
        sample();
        child.kill(signal);
      }
    },
    waitFor: (text, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (tail.includes(text)) done(() => resolve());
          else if (gone()) done(() => reject(new Error(`process ${pid} exited before "${text}":\n${tail}`)));
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(new Error(`no "${text}" from process ${pid} within ${timeoutMs} ms:\n${tail}`)),
            ),
          timeoutMs,
        );
        const done = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
  };
}

/** The environment of a contender's process: ours, minus anything that would point it at another tenant/database. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(AUTH0_|ORGADMIN_|PORTAL_|DATABASE_URL$|NODE_EXTRA_CA_CERTS$)/.test(name)) delete env[name];
  }
  return { ...env, ...extra };
}
