// prunekit's own error type: every reader and writer reports bad input or a refused output as a
// PrunekitError whose message starts with the file it is about (then the field or line), so a CLI can
// print it as one line and a test can tell it apart from a bug (a TypeError, a RangeError).

export class PrunekitError extends Error {
  constructor(
    /** the file or folder the error is about */
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'PrunekitError';
  }
}

/** An output path that may not be written (see claimOutput), or a path that cannot be created. */
export class OutputError extends PrunekitError {
  constructor(file: string, detail: string) {
    super(file, detail);
    this.name = 'OutputError';
  }
}
