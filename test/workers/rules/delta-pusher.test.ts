import { describe, expect, it } from "vitest";
import { DeltaPusher } from "../../../agents/delta-pusher";

/** A room that records every delta; the first one is held until the test lets it through. */
function heldRoom() {
  const deltas: [string, number][] = [];
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const sink = async (text: string, index: number) => {
    deltas.push([text, index]);
    if (deltas.length === 1) await held;
  };
  return { deltas, sink, release };
}

describe("how a reply's deltas reach the room", () => {
  it("one delta is in flight at a time, and what arrives meanwhile goes out together, at its offset", async () => {
    const room = heldRoom();
    const pusher = new DeltaPusher(room.sink);
    pusher.push("Here ");
    pusher.push("is ");
    pusher.push("a ");
    pusher.push("reply.");
    expect(room.deltas).toEqual([["Here ", 0]]);
    room.release();
    await pusher.flush();
    expect(room.deltas).toEqual([
      ["Here ", 0],
      ["is a reply.", 5],
    ]);
  });

  it("after a flush, the next text starts a new delta where the reply stands", async () => {
    const room = heldRoom();
    const pusher = new DeltaPusher(room.sink);
    pusher.push("ab");
    room.release();
    await pusher.flush();
    pusher.push("cd");
    await pusher.flush();
    expect(room.deltas).toEqual([
      ["ab", 0],
      ["cd", 2],
    ]);
  });

  it("a later step of the run continues at the offset earlier steps reached", async () => {
    const room = heldRoom();
    const pusher = new DeltaPusher(room.sink, 42);
    pusher.push("more");
    room.release();
    await pusher.flush();
    expect(room.deltas).toEqual([["more", 42]]);
  });

  it("flush with nothing pushed resolves at once, and sends nothing", async () => {
    const room = heldRoom();
    await new DeltaPusher(room.sink).flush();
    expect(room.deltas).toEqual([]);
  });

  it("a delta the room refused fails the flush and every later push", async () => {
    const refused = new Error("the room is gone");
    const sent: string[] = [];
    const pusher = new DeltaPusher(async (text) => {
      sent.push(text);
      throw refused;
    });
    pusher.push("lost");
    await expect(pusher.flush()).rejects.toBe(refused);
    expect(() => pusher.push("after")).toThrow(refused);
    expect(sent).toEqual(["lost"]);
  });
});
