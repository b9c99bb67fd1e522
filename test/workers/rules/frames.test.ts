import { describe, expect, it } from "vitest";
import { MAX_FRAME_BYTES } from "../../../protocol/chat";
import { parseClientFrame } from "../../../rooms/frames";

const utf8 = (text: string) => new TextEncoder().encode(text);
const json = (value: unknown) => JSON.stringify(value);
const approvalId = "3f1c2b8e-4a5d-4e6f-8a9b-0c1d2e3f4a5b";

function errorOf(raw: Parameters<typeof parseClientFrame>[0]) {
  const parsed = parseClientFrame(raw);
  if (!("error" in parsed)) throw new Error(`expected a refusal, got ${json(parsed.frame)}`);
  return parsed.error;
}

describe("how a socket frame is read", () => {
  it("a message, a typing notice and a decision are read as frames, from text or from UTF-8 bytes", () => {
    const message = { type: "message", text: "hello €", clientMessageId: "c-1" };
    expect(parseClientFrame(json(message))).toEqual({ frame: message });
    expect(parseClientFrame(utf8(json(message)))).toEqual({ frame: message });
    expect(parseClientFrame(utf8(json(message)).buffer as ArrayBuffer)).toEqual({ frame: message });
    expect(parseClientFrame(json({ type: "typing" }))).toEqual({ frame: { type: "typing" } });
    const decision = { type: "approval", approvalId, decision: "deny" };
    expect(parseClientFrame(json(decision))).toEqual({ frame: decision });
  });

  it("what is not JSON, or not a frame, is a bad request", () => {
    for (const raw of ["not json", "[1,2", "null", "42", json({ type: "shout" }), json({ text: "no type" })]) {
      expect(errorOf(raw), raw).toMatchObject({ type: "error", code: "bad_request" });
    }
    expect(errorOf(json({ type: "approval", approvalId, decision: "maybe" })).code).toBe("bad_request");
    expect(errorOf(json({ type: "message", text: "   ", clientMessageId: "c" })).code).toBe("bad_request");
  });

  it("a refused message names its clientMessageId, when it is one a client could have meant", () => {
    expect(errorOf(json({ type: "message", text: "", clientMessageId: "mine" })).clientMessageId).toBe("mine");
    expect(errorOf(json({ type: "message", text: "a\u0000b", clientMessageId: "nul" }))).toMatchObject({
      clientMessageId: "nul",
      message: expect.stringMatching(/NUL/),
    });
    expect(errorOf(json({ type: "message", text: "", clientMessageId: "x".repeat(129) }))).not.toHaveProperty(
      "clientMessageId",
    );
    expect(errorOf(json({ type: "message", text: "", clientMessageId: 7 }))).not.toHaveProperty("clientMessageId");
  });

  it("a text frame the runtime had to repair (U+FFFD) is refused; the same character in bytes is taken", () => {
    const frame = { type: "message", text: "bad \uFFFD bytes", clientMessageId: "f" };
    expect(errorOf(json(frame))).toMatchObject({ code: "bad_request", message: expect.stringMatching(/UTF-8/) });
    expect(parseClientFrame(utf8(json(frame)))).toEqual({ frame });
  });

  it("bytes that are not UTF-8 are refused, not repaired", () => {
    expect(errorOf(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/UTF-8/),
    });
  });

  it("a frame over the limit is too large, counted in UTF-8 bytes, however it arrives", () => {
    const fits = json({ type: "message", text: "hi", clientMessageId: "ok" }).padEnd(MAX_FRAME_BYTES, " ");
    expect(parseClientFrame(fits)).toMatchObject({ frame: { type: "message" } });
    expect(errorOf(`${fits} `).code).toBe("payload_too_large");
    // Under the limit in characters, over it in bytes.
    const euros = json({ type: "message", text: "€".repeat(30_000), clientMessageId: "e" });
    expect(euros.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(errorOf(euros).code).toBe("payload_too_large");
    expect(errorOf(new Uint8Array(MAX_FRAME_BYTES + 1)).code).toBe("payload_too_large");
  });

  it("JSON nested too deep is a bad request", () => {
    expect(errorOf(`${"[".repeat(64)}${"]".repeat(64)}`).code).toBe("bad_request");
  });
});
