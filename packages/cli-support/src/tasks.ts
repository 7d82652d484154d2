// Task selection shared by `eval`, `tasks` and the bench app: the built-in registry plus the
// user's task folders, and --tasks / --suite resolution.
import fs from 'node:fs';
import { TaskRegistry, type TaskDefinition } from '@prunekit/benchmarks-mteb';
import { CliError } from './errors.js';

/** The built-in tasks and suites, plus every folder of user task files (each with an optional suites/). */
export function taskRegistry(tasksDirs: readonly string[] = []): TaskRegistry {
  const registry = TaskRegistry.builtin();
  for (const dir of tasksDirs) {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`--tasks-dir ${dir}: no such folder`);
    registry.addDirectory(dir);
  }
  return registry;
}

/** Exactly one of `tasks` (names) or `suite` must be given. */
export function selectTasks(registry: TaskRegistry, sel: { tasks?: readonly string[]; suite?: string }): TaskDefinition[] {
  const hasTasks = sel.tasks !== undefined && sel.tasks.length > 0;
  if (hasTasks && sel.suite !== undefined) throw new CliError('give either --tasks or --suite, not both');
  if (sel.suite !== undefined) return registry.suiteTasks(sel.suite);
  if (!hasTasks) throw new CliError('give --tasks NAME[,NAME...] or --suite NAME (`prunekit tasks` lists them)');
  const names = [...new Set(sel.tasks)];
  return names.map((n) => registry.getTask(n));
}

/** A datasets root must be an existing folder. */
export function checkDataRoot(dir: string, flag = '--data-root'): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${flag} ${dir}: no such folder`);
}
