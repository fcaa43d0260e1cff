/** Schedules as EventBridge Scheduler takes them (the cleanup's `cleanupSchedule`): the accepted forms and a rate's period. */

/** EventBridge Scheduler's expressions: a rate (the unit singular for 1 only, as AWS requires) or a six-field cron. */
export const RATE = /^rate\((\d+) (minutes?|hours?|days?)\)$/;
export const CRON = /^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/;
const RATE_UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** A schedule's period: rate(5 minutes) -> 300000; undefined for a cron expression or a rate AWS refuses (rate(0 hours), rate(1 hours)). */
export function rateMs(expression: string): number | undefined {
  const m = RATE.exec(expression.trim());
  if (!m) return undefined;
  const count = Number(m[1]);
  const unit = m[2].replace(/s$/, '') as keyof typeof RATE_UNIT_MS;
  if (count < 1 || (count === 1) !== (m[2] === unit)) return undefined;
  return count * RATE_UNIT_MS[unit];
}
