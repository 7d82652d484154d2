import fs from 'node:fs';

/** This package's version (read from its package.json, in src/ and dist/ alike). */
export const PRUNEKIT_VERSION: string = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
