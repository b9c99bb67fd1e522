/**
 * A room has one alarm. Everything that needs the room awake later (run deadlines, approval expiry and redelivery;
 * later backups, audit checkpoints, usage batches) registers a job here: when it next needs to wake, read from the
 * room's SQL, and what to do then. The alarm is always set to the earliest of those.
 */
import { errorFields, type LogFields, log } from "../api/log";

export type ScheduledJob = {
  /** Names the job in logs. */
  name: string;
  /** When this job next has work (ms since the epoch), or null for none; at or before `now` means it is due. */
  nextWake(now: number): number | null;
  /** Does what is due at `now`. */
  run(now: number): void | Promise<void>;
};

/** The alarm is never set closer than this, so a job that keeps failing cannot keep the room spinning. */
const MIN_DELAY_MS = 1_000;

export class Scheduler {
  private readonly jobs: ScheduledJob[] = [];

  constructor(
    private readonly setAlarm: (at: number) => void,
    /** The room's ids for a failing job's log line. */
    private readonly logFields: () => LogFields = () => ({}),
  ) {}

  register(job: ScheduledJob): void {
    this.jobs.push(job);
  }

  /** Sets the alarm to the earliest wake any job needs, at least a second from now; with none, leaves it be. */
  reschedule(now = Date.now()): void {
    let earliest: number | null = null;
    for (const job of this.jobs) {
      const at = job.nextWake(now);
      if (at !== null && (earliest === null || at < earliest)) earliest = at;
    }
    if (earliest !== null) this.setAlarm(Math.max(now + MIN_DELAY_MS, earliest));
  }

  /** The alarm rang: runs the jobs that are due, in the order they were registered, then sets the next wake. */
  async runDue(now = Date.now()): Promise<void> {
    for (const job of this.jobs) {
      const at = job.nextWake(now);
      if (at === null || at > now) continue;
      try {
        await job.run(now);
      } catch (error) {
        // One failing job must not hold up the others; it is still due, so the next wake tries it again.
        log("error", "scheduled_job_failed", { ...this.logFields(), job: job.name, ...errorFields(error) });
      }
    }
    this.reschedule(now);
  }
}
