// Reading text input strictly: a UTF-8 byte-order mark is dropped (editors on Windows add one, and
// JSON.parse rejects it as an invisible character), and bytes that are not UTF-8 are an error naming
// the file and line instead of silently turning into U+FFFD.
import fs from 'node:fs';
import { PrunekitError } from './errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes bytes as UTF-8 (BOM dropped); invalid bytes throw PrunekitError naming `file` and the line
 * (`line` when the bytes are that one line of the file, else the line found by scanning).
 */
export function decodeUtf8(bytes: Uint8Array, file: string, line?: number): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    if (line !== undefined) throw new PrunekitError(`${file}:${line}`, 'not valid UTF-8 text (save the file as UTF-8)');
    // find the first invalid sequence to report its line
    let n = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          strictUtf8.decode(bytes.subarray(start, i));
        } catch {
          throw new PrunekitError(`${file}:${n}`, 'not valid UTF-8 text (save the file as UTF-8)');
        }
        n++;
        start = i + 1;
      }
    }
    throw new PrunekitError(file, 'not valid UTF-8 text (save the file as UTF-8)');
  }
}

/** Reads a text file strictly as UTF-8; a folder or unreadable path is a PrunekitError naming it. */
export function readTextFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new PrunekitError(file, 'is a folder; expected a file');
    if (code === 'ENOENT') throw new PrunekitError(file, 'no such file');
    throw new PrunekitError(file, `cannot read (${code ?? (err as Error).message})`);
  }
  return decodeUtf8(bytes, file);
}
