/**
 * Performs one HTTP request for the HTTP tool: no redirects followed, a time limit, and a size-capped body whose
 * echoed secrets are redacted before the cut (a value straddling the cut is read whole, then redacted).
 */
import type { HttpRequestInput } from "../../protocol/agents";
import { REDACTION_MARGIN, type RevealedSecret, redactSecrets } from "./redaction";

export const MAX_ARTIFACT_BODY = 64 * 1024;
const TIMEOUT_MS = 15_000;

export type HttpOutcome = { status: number; contentType: string | null; body: string; truncated: boolean };

export async function performRequest(
  url: URL,
  input: HttpRequestInput,
  sentHeaders: Record<string, string>,
  revealed: readonly RevealedSecret[],
): Promise<HttpOutcome> {
  const headers = new Headers(sentHeaders);
  if (input.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  // A redirect could lead to an address the allow list never named: it is reported, not followed.
  const response = await fetch(url, {
    method: input.method,
    headers,
    body: input.method === "GET" || input.method === "HEAD" ? undefined : input.body,
    redirect: "manual",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const read = await readCapped(response, MAX_ARTIFACT_BODY + REDACTION_MARGIN);
  const redacted = redactSecrets(read.text, revealed);
  const truncated = read.truncated || redacted.length > MAX_ARTIFACT_BODY;
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: redacted.slice(0, MAX_ARTIFACT_BODY),
    truncated,
  };
}

async function readCapped(response: Response, limit: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      chunks.push(value.slice(0, limit - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder().decode(bytes), truncated };
}
