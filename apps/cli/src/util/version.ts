import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Version of @prunekit/cli (from its package.json). */
export const cliVersion = (require('../../package.json') as { version: string }).version;
