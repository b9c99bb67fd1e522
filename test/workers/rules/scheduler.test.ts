import { describe, expect, it } from "vitest";
import { type ScheduledJob, Scheduler } from "../../../rooms/scheduler";

/** A job whose next wake the test sets, recording when it ran. */
function job(name: string, wake: number | null, fail = false) {
  const ran: number[] = [];
  const state = { wake };
  const scheduled: ScheduledJob = {
    name,
    nextWake: () => state.wake,
    run: (now) => {
      ran.push(now);
      if (fail) throw new Error(`${name} failed`);
      state.wake = null;
    },
  };
  return { scheduled, ran, state };
}

describe("the room's scheduler", () => {
  it("sets the alarm to the earliest wake any job needs, never closer than a second", () => {
    const alarms: number[] = [];
    const scheduler = new Scheduler((at) => alarms.push(at));
    scheduler.register(job("later", 50_000).scheduled);
    scheduler.register(job("sooner", 20_000).scheduled);
    scheduler.reschedule(10_000);
    expect(alarms).toEqual([20_000]);
    scheduler.register(job("overdue", 5_000).scheduled);
    scheduler.reschedule(10_000);
    expect(alarms.at(-1)).toBe(11_000);
  });

  it("leaves the alarm alone when no job needs a wake", () => {
    const alarms: number[] = [];
    const scheduler = new Scheduler((at) => alarms.push(at));
    scheduler.register(job("idle", null).scheduled);
    scheduler.reschedule(10_000);
    expect(alarms).toEqual([]);
  });

  it("runs only the due jobs, in the order registered, and a failing one neither stops the others nor is forgotten", async () => {
    const alarms: number[] = [];
    const scheduler = new Scheduler((at) => alarms.push(at));
    const failing = job("failing", 1_000, true);
    const due = job("due", 2_000);
    const notYet = job("not yet", 60_000);
    for (const j of [failing, due, notYet]) scheduler.register(j.scheduled);
    await scheduler.runDue(5_000);
    expect(failing.ran).toEqual([5_000]);
    expect(due.ran).toEqual([5_000]);
    expect(notYet.ran).toEqual([]);
    // The failing job is still due: the next alarm comes as soon as allowed.
    expect(failing.state.wake).toBe(1_000);
    expect(alarms).toEqual([6_000]);
  });
});
