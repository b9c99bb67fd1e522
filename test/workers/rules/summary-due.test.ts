import { describe, expect, it } from "vitest";
import { type Summary, summaryDue } from "../../../rooms/summaries";

const policy = { every: 50, keepRecent: 20 };
const summary = (messageCursor: number, version = 1): Summary => ({ version, messageCursor, text: "earlier" });

describe("when a summary is due", () => {
  it("not before `every` messages have accumulated past the recent ones it leaves out", () => {
    expect(summaryDue(null, 69, policy)).toBeNull();
    expect(summaryDue(null, 70, policy)).toEqual({ from: 1, to: 50 });
    expect(summaryDue(null, 0, policy)).toBeNull();
  });

  it("the next one starts right after the last summary's cursor and never covers the recent messages", () => {
    expect(summaryDue(summary(50), 119, policy)).toBeNull();
    expect(summaryDue(summary(50), 120, policy)).toEqual({ from: 51, to: 100 });
    // Late: more has accumulated than `every`; the range covers all of it, still leaving the recent ones out.
    expect(summaryDue(summary(50), 500, policy)).toEqual({ from: 51, to: 480 });
  });

  it("with nothing kept back, the summary reaches the newest message", () => {
    expect(summaryDue(summary(8), 16, { every: 8, keepRecent: 0 })).toEqual({ from: 9, to: 16 });
    expect(summaryDue(summary(8), 15, { every: 8, keepRecent: 0 })).toBeNull();
  });
});
