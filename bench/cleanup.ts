/**
 * A benchmark's clean-up (child processes, its PostgreSQL cluster, its work folder): done once, whether the script
 * reaches its end or is interrupted — on SIGINT or SIGTERM it runs, then the script exits with 130.
 */
export function cleanUpOnce(
  script: string,
  log: (line: string) => void,
  steps: () => Promise<void>,
): () => Promise<void> {
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (cleaning ??= steps());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${script}: ${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  return cleanup;
}
