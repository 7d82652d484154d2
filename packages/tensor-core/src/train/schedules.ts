// Learning-rate and sparsity schedules as plain functions of the step.
//
// LR schedules return a *multiplier* of the base learning rate, as torch's LambdaLR and
// transformers' get_*_schedule_with_warmup do: the optimizer step with 0-based index `step` uses
// lr = baseLr · schedule(step). (In PyTorch the scheduler is stepped after the optimizer, so the
// first update uses lambda(0); with warm-up that update has lr 0, exactly as here.)

/** Maps a 0-based step index to a value (an LR multiplier, or a keep fraction). */
export type Schedule = (step: number) => number;

function checkSteps(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer (got ${value})`);
}

/** Multiplier 1 at every step (transformers' get_constant_schedule). */
export function constantSchedule(): Schedule {
  return () => 1;
}

/** Linear warm-up from 0 to 1 over `warmupSteps`, then 1 (get_constant_schedule_with_warmup). */
export function constantWithWarmupSchedule(warmupSteps: number): Schedule {
  checkSteps('warmupSteps', warmupSteps);
  return (step) => (step < warmupSteps ? step / Math.max(1, warmupSteps) : 1);
}

/**
 * Linear warm-up from 0 to 1 over `warmupSteps`, then linear decay to 0 at `totalSteps`
 * (transformers' get_linear_schedule_with_warmup; 0 after totalSteps).
 */
export function linearWarmupSchedule(warmupSteps: number, totalSteps: number): Schedule {
  checkSteps('warmupSteps', warmupSteps);
  checkSteps('totalSteps', totalSteps);
  return (step) => {
    if (step < warmupSteps) return step / Math.max(1, warmupSteps);
    return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  };
}

/**
 * Linear warm-up, then cosine decay from 1 to 0 (transformers' get_cosine_schedule_with_warmup;
 * `numCycles` 0.5 is one half cosine, clamped at 0).
 */
export function cosineWarmupSchedule(warmupSteps: number, totalSteps: number, numCycles = 0.5): Schedule {
  checkSteps('warmupSteps', warmupSteps);
  checkSteps('totalSteps', totalSteps);
  return (step) => {
    if (step < warmupSteps) return step / Math.max(1, warmupSteps);
    const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  };
}

export interface CubicSparsityOptions {
  /** final keep fraction v_f, in (0, 1] */
  finalKeep: number;
  /** total training steps */
  totalSteps: number;
  /** steps at the end that hold v_f (SMP's code); the cubic ramp spans N = totalSteps − finalHold */
  finalHold?: number;
  /** keep fraction at step 0 (default 1: nothing pruned) */
  initialKeep?: number;
}

/**
 * SMP's cubic schedule of the keep fraction (no warm-up):
 * v_t = v_f + (v_0 − v_f)(1 − t/N)³ for t < N, then v_f, with N = totalSteps − finalHold
 * and v_0 = 1 by default.
 */
export function cubicSparsitySchedule(options: CubicSparsityOptions): Schedule {
  const { finalKeep, totalSteps, finalHold = 0, initialKeep = 1 } = options;
  if (!(finalKeep > 0 && finalKeep <= 1)) throw new Error(`finalKeep must be in (0, 1] (got ${finalKeep})`);
  if (!(initialKeep >= finalKeep && initialKeep <= 1)) throw new Error(`initialKeep must be in [finalKeep, 1] (got ${initialKeep})`);
  checkSteps('totalSteps', totalSteps);
  checkSteps('finalHold', finalHold);
  const n = totalSteps - finalHold;
  if (n < 1) throw new Error(`totalSteps − finalHold must be ≥ 1 (got ${totalSteps} − ${finalHold})`);
  return (step) => {
    if (step >= n) return finalKeep;
    if (step <= 0) return initialKeep;
    return finalKeep + (initialKeep - finalKeep) * (1 - step / n) ** 3;
  };
}
