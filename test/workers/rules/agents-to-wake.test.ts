import { describe, expect, it } from "vitest";
import { agentsToWake, type RoomAgent } from "../../../rooms/room-agents";

const agent = (handle: string, trigger: RoomAgent["trigger"] = "mention"): RoomAgent => ({
  agentId: `id-${handle}`,
  handle,
  name: `Agent ${handle}`,
  trigger,
});
const handles = (woken: RoomAgent[]) => woken.map((a) => a.handle);

describe("which agents a message wakes", () => {
  const ops = agent("ops");
  const bot = agent("bot");
  const scribe = agent("scribe", "always");

  it("mentioned agents wake in the order they are mentioned, each once", () => {
    expect(handles(agentsToWake([ops, bot], "@bot then @ops, and @bot again", 3))).toEqual(["bot", "ops"]);
  });

  it("a message without a mention wakes only the agents that answer every message", () => {
    expect(handles(agentsToWake([ops, bot], "hello everyone", 3))).toEqual([]);
    expect(handles(agentsToWake([ops, scribe], "hello everyone", 3))).toEqual(["scribe"]);
  });

  it("agents that answer every message come after the mentioned ones, and a mention does not wake them twice", () => {
    expect(handles(agentsToWake([scribe, ops], "@ops look", 3))).toEqual(["ops", "scribe"]);
    expect(handles(agentsToWake([scribe, ops], "@scribe @ops look", 3))).toEqual(["scribe", "ops"]);
  });

  it("a message wakes at most `max` agents, however it is written", () => {
    const many = ["a1", "a2", "a3", "a4"].map((h) => agent(h));
    expect(handles(agentsToWake([...many, scribe], "@a4 @a3 @a2 @a1", 3))).toEqual(["a4", "a3", "a2"]);
    expect(handles(agentsToWake([...many, scribe], "@a1", 1))).toEqual(["a1"]);
    expect(agentsToWake([...many, scribe], "@a1 @a2", 0)).toEqual([]);
  });

  it("a mention is matched whole and without regard to case; unknown handles wake nobody", () => {
    expect(handles(agentsToWake([ops], "@OPS deploy", 3))).toEqual(["ops"]);
    expect(handles(agentsToWake([ops], "@ops-team deploy", 3))).toEqual([]);
    expect(handles(agentsToWake([ops], "@opsx deploy", 3))).toEqual([]);
    expect(handles(agentsToWake([ops], "@nobody deploy", 3))).toEqual([]);
    expect(handles(agentsToWake([ops], "(@ops), please", 3))).toEqual(["ops"]);
    expect(handles(agentsToWake([ops], "line one\n@ops line two", 3))).toEqual(["ops"]);
  });

  it("an address or a doubled @ is not a mention", () => {
    expect(agentsToWake([ops], "write to team@ops.example.com", 3)).toEqual([]);
    expect(agentsToWake([ops], "@@ops", 3)).toEqual([]);
    expect(agentsToWake([ops], "x_@ops", 3)).toEqual([]);
  });
});
