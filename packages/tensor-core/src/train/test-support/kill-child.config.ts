import { defineConfig } from 'vitest/config';

// Runs only the child of the SIGKILL resume test (trainer.test.ts spawns it).
export default defineConfig({ test: { include: ['src/train/test-support/kill-child.ts'], pool: 'forks', testTimeout: 120_000, reporters: ['default'] } });
