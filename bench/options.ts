/** Command-line checks the benchmark scripts share: a bad option ends the script with exit code 2 and the rule. */
export function optionChecks(script: string): {
  fail: (message: string) => never;
  positive: (text: string, name: string, integer?: boolean) => number;
} {
  const fail = (message: string): never => {
    process.stderr.write(`${script}: ${message}\n`);
    process.exit(2);
  };
  const positive = (text: string, name: string, integer = true): number => {
    const value = Number(text);
    if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value)))
      fail(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${text}`);
    return value;
  };
  return { fail, positive };
}
