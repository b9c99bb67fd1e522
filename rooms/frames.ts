/** Turns a raw socket frame into a validated client frame, or the error event that explains why not. */
import type { WSMessage } from "partyserver";
import { type ClientFrame, clientFrameSchema, MAX_FRAME_BYTES, type ServerEventOf } from "../protocol/chat";
import { parseStrictJson } from "../protocol/strict-json";

type ErrorEvent = ServerEventOf<"error">;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function parseClientFrame(raw: WSMessage): { frame: ClientFrame } | { error: ErrorEvent } {
  let text: string;
  if (typeof raw === "string") {
    text = raw;
    // The runtime decodes text frames leniently, putting U+FFFD where the bytes were not UTF-8: such a frame is
    // refused rather than stored altered. (A U+FFFD a client means to send travels fine in a binary frame or REST.)
    if (text.includes("\uFFFD")) return badRequest("frame is not valid UTF-8 (it holds U+FFFD)");
    // UTF-16 length is a lower bound of the UTF-8 size; encode only when it could be over.
    if (
      text.length > MAX_FRAME_BYTES ||
      (text.length * 3 > MAX_FRAME_BYTES && utf8.encode(text).byteLength > MAX_FRAME_BYTES)
    ) {
      return tooLarge();
    }
  } else {
    if (raw.byteLength > MAX_FRAME_BYTES) return tooLarge();
    try {
      text = strictUtf8.decode(raw);
    } catch {
      return badRequest("frame is not valid UTF-8");
    }
  }
  const strict = parseStrictJson(text);
  if (!strict.ok) {
    if (strict.value === undefined) return badRequest(strict.reason.replace("body", "frame"));
    return badRequest(strict.reason, (strict.value as { clientMessageId?: unknown } | null)?.clientMessageId);
  }
  const json = strict.value;
  const parsed = clientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const clientMessageId = (json as { clientMessageId?: unknown } | null)?.clientMessageId;
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return badRequest(`${where}${issue?.message ?? "invalid frame"}`, clientMessageId);
  }
  return { frame: parsed.data };
}

function tooLarge(): { error: ErrorEvent } {
  return {
    error: { type: "error", code: "payload_too_large", message: `frame is larger than ${MAX_FRAME_BYTES} bytes` },
  };
}

function badRequest(message: string, clientMessageId?: unknown): { error: ErrorEvent } {
  const error: ErrorEvent = { type: "error", code: "bad_request", message };
  if (typeof clientMessageId === "string" && clientMessageId.length <= 128) error.clientMessageId = clientMessageId;
  return { error };
}
