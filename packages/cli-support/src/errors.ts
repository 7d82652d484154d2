import { InvalidArgumentError } from 'commander';

// Errors a command raises on purpose (bad flags, missing folders): printed as one line
// `prunekit: <message>` with a non-zero exit status, like every other error.

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The one-line message of any thrown value (the first line of a multi-line message). */
export function errorMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.trim() || (e instanceof Error ? e.name : 'error');
}

/** Comma-separated list flag (`--tasks a,b` or repeated `--tasks a --tasks b`). */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

/** Repeatable flag. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A positive integer flag value. */
export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer.`);
    return n;
  };
}

/** A numeric flag value that must pass `check` (e.g. "a number in (0, 1]"). */
export function numberFlag(flag: string, check: (n: number) => boolean, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !check(n)) throw new CliError(`${flag} expects ${what} (got "${value}")`);
    return n;
  };
}

/** A flag value from a fixed list. */
export function oneOf<T extends string>(flag: string, values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!values.includes(value as T)) throw new CliError(`${flag} must be one of ${values.join(', ')} (got "${value}")`);
    return value as T;
  };
}
