// Where a command writes: stdout carries results (tables, JSON), stderr carries progress, warnings
// and errors. Commands take a CliIo instead of touching process.stdout, so tests run them in-process
// and read both streams.

export interface CliIo {
  /** Writes to stdout (results only: with --json, nothing but the JSON document). */
  out(text: string): void;
  /** Writes to stderr (progress, warnings, errors). */
  err(text: string): void;
  /** The stderr stream progress bars draw on, when it is an interactive terminal; null otherwise. */
  tty: NodeJS.WriteStream | null;
}

/** The process's own streams. Progress bars are drawn only when stderr is a TTY. */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    tty: process.stderr.isTTY ? process.stderr : null,
  };
}

/** An in-memory CliIo (for tests and for embedding the CLI in other programs). */
export function memoryIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    tty: null,
    out(text: string): void {
      io.stdout += text;
    },
    err(text: string): void {
      io.stderr += text;
    },
  };
  return io;
}

/** Prints a value as the one JSON document on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}

/** A warning line on stderr: `prunekit: warning: <message>`. */
export function warn(io: CliIo, message: string, prefix = 'prunekit'): void {
  io.err(`${prefix}: warning: ${message}\n`);
}
