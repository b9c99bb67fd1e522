import { describe, expect, it } from "vitest";
import { LiveRuns } from "../../../rooms/streaming-runs";

describe("a run's live text in the room", () => {
  it("chunks in order are broadcast as they come, each at its offset", () => {
    const live = new LiveRuns();
    live.start("r", "agent");
    expect(live.append("r", "agent", "Here ", 0)).toEqual({ text: "Here ", index: 0 });
    expect(live.append("r", "agent", "it is.", 5)).toEqual({ text: "it is.", index: 5 });
    expect(live.text("r")).toBe("Here it is.");
  });

  it("a retried chunk adds only the part the room has not seen, and a repeat adds nothing", () => {
    const live = new LiveRuns();
    live.start("r", "agent");
    live.append("r", "agent", "abc", 0);
    expect(live.append("r", "agent", "bcde", 1)).toEqual({ text: "de", index: 3 });
    expect(live.append("r", "agent", "abcde", 0)).toBeNull();
    expect(live.append("r", "agent", "cd", 2)).toBeNull();
    expect(live.text("r")).toBe("abcde");
  });

  it("a chunk past a gap is passed on at its offset, but the room keeps only a true beginning of the reply", () => {
    const live = new LiveRuns();
    // The room slept mid-stream: it knows the text saved at the run's last pause, the agent has streamed further.
    live.restore("r", "agent", "Once ");
    expect(live.append("r", "agent", "time", 10)).toEqual({ text: "time", index: 10 });
    expect(live.text("r")).toBe("Once ");
    // A chunk that reaches back over what the room has extends it again.
    expect(live.append("r", "agent", "upon a", 5)).toEqual({ text: "upon a", index: 5 });
    expect(live.text("r")).toBe("Once upon a");
  });

  it("a late joiner's snapshot holds the text so far of each run in progress, and none once it ended", () => {
    const live = new LiveRuns();
    live.start("r1", "a1");
    live.append("r1", "a1", "so far", 0);
    // A room that slept brings a run back from the text saved at its last pause, without overwriting newer text.
    live.restore("r2", "a2", "paused at");
    live.restore("r1", "a1", "stale");
    expect(live.snapshots()).toEqual([
      { type: "run.snapshot", runId: "r1", agentId: "a1", text: "so far", tools: [] },
      { type: "run.snapshot", runId: "r2", agentId: "a2", text: "paused at", tools: [] },
    ]);
    live.end("r1");
    expect(live.snapshots().map((s) => s.type === "run.snapshot" && s.runId)).toEqual(["r2"]);
  });
});
