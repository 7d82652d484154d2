// SMP's cubic keep schedule with a final hold, and the regulariser weight that follows it.
import { cubicSparsitySchedule, type Schedule } from '@prunekit/tensor-core';

export interface KeepScheduleOptions {
  /** final keep fraction v_f in (0, 1] */
  finalKeep: number;
  /** total training steps */
  totalSteps: number;
  /** steps at the end that hold v_f (the cubic ramp spans N = totalSteps − finalHold) */
  finalHold: number;
}

/** v_t = v_f + (1 − v_f)(1 − t/N)³ for t < N, then v_f (tensor-core's cubicSparsitySchedule). */
export function keepSchedule(options: KeepScheduleOptions): Schedule {
  return cubicSparsitySchedule({ finalKeep: options.finalKeep, totalSteps: options.totalSteps, finalHold: options.finalHold });
}

/**
 * The regulariser weight λ_R · s_t / s_f at keep fraction v_t (s = 1 − v): 0 at the start, λ_R
 * once the target is reached; 0 throughout when nothing is to be pruned (v_f = 1).
 */
export function regulariserWeight(lambdaR: number, keepNow: number, finalKeep: number): number {
  const sf = 1 - finalKeep;
  if (sf <= 0) return 0;
  return lambdaR * Math.min(1, Math.max(0, (1 - keepNow) / sf));
}
