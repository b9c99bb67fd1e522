import { createMiddleware } from "hono/factory";
import { parseStrictJson } from "../../protocol/strict-json";
import type { AppEnv } from "../context";
import { badRequest, payloadTooLarge } from "../errors";

const MAX_BODY_BYTES = 64 * 1024;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * workerd's Request.json() silently turns invalid UTF-8 into U+FFFD, which would store text the client never sent.
 * This reads the body once, refuses oversized (413) or malformed bytes, reads a JSON body strictly (depth, lone
 * surrogates, NUL: see protocol/strict-json.ts), and leaves the text and the value for the validators.
 */
export const strictBody = createMiddleware<AppEnv>(async function readStrictBody(c, next) {
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw payloadTooLarge(`body is larger than ${MAX_BODY_BYTES} bytes`);
  const bytes = await readAtMost(c.req.raw, MAX_BODY_BYTES);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw badRequest("body is not valid UTF-8");
  }
  // Hono's body cache holds promises, though its type says otherwise.
  const cache = c.req.bodyCache as Record<string, unknown>;
  cache.text = Promise.resolve(text);
  if (isJson(c.req.header("Content-Type")) && text.length > 0) {
    const parsed = parseStrictJson(text);
    if (!parsed.ok) throw badRequest(parsed.reason);
    cache.json = Promise.resolve(parsed.value);
  }
  await next();
});

/** Reads the body, stopping as soon as it passes `limit` bytes: a chunked body has no Content-Length to trust. */
async function readAtMost(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw payloadTooLarge(`body is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/([a-z.-]+\+)?json/i.test(contentType);
}
