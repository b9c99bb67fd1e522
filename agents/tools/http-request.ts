/**
 * Sends one HTTP tool request, guarded: the org's settings are read and the whole egress check is made again with
 * them, the host's addresses are resolved and checked (`egress-dns.ts`), a body over 64 KiB is refused, and the
 * response body is size-capped with echoed secrets redacted before the cut (a value straddling the cut is read
 * whole, then redacted). One time limit covers everything, redirects included.
 *
 * Redirects are followed by hand, for GET and HEAD only (a 303 makes the next hop a GET), at most five, each hop
 * checked like the first (the agent's allow list, the org, the guard, its addresses). A hop that is refused is not
 * taken: the redirect itself is the result. Headers that carry secrets are dropped once a hop leaves the first
 * origin. A mutating request's 3xx is its result: it is never re-sent somewhere nobody approved.
 */
import type { AgentTools, HttpRequestInput } from "../../protocol/agents";
import { checkEgress, devAllowOrigins, type EgressOptions, isDevOrigin, refuseEgress } from "./egress";
import { checkResolvedHost } from "./egress-dns";
import { loadOrgEgress, NO_ORG_EGRESS } from "./egress-settings";
import { REDACTION_MARGIN, type RevealedSecret, redactSecrets } from "./redaction";

export const MAX_ARTIFACT_BODY = 64 * 1024;
export const MAX_REQUEST_BODY = 64 * 1024;
export const MAX_REDIRECTS = 5;
const TIMEOUT_MS = 15_000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Dropped on a hop to another origin, with every header whose value carries a secret or an admin-written value. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

export type HttpOutcome = {
  status: number;
  contentType: string | null;
  body: string;
  truncated: boolean;
  /** The URL that answered (after redirects). */
  finalUrl: string;
  /** Set when the answer is a redirect that was not followed because its hop was refused: why. */
  redirectRefused?: string;
};

/** What the request is checked against: the agent's HTTP tool, its org (null: unknown) and the Worker's env. */
export type EgressScope = { env: Env; orgId: string | null; http: NonNullable<AgentTools["http"]> };

/** A refusal the tool reports as its failure; nothing was sent to the refused address. */
export class EgressRefused extends Error {}

export async function performRequest(
  url: URL,
  input: HttpRequestInput,
  sentHeaders: Record<string, string>,
  revealed: readonly RevealedSecret[],
  scope: EgressScope,
): Promise<HttpOutcome> {
  const { env, http } = scope;
  const deadline = AbortSignal.timeout(TIMEOUT_MS);
  const mutating = input.method !== "GET" && input.method !== "HEAD";
  const body = mutating ? input.body : undefined;
  if (body !== undefined && new TextEncoder().encode(body).byteLength > MAX_REQUEST_BODY) {
    throw refused(`request bodies are limited to ${MAX_REQUEST_BODY} bytes; nothing was sent`, url);
  }
  const org = scope.orgId ? await loadOrgEgress(env, scope.orgId) : NO_ORG_EGRESS;
  const options: EgressOptions = {
    development: env.PARLOR_ENV === "development",
    devAllowOrigins: devAllowOrigins(env),
    org,
  };
  const headers = new Headers(sentHeaders);
  if (body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");

  const first = checkEgress(http, input.method, url.href, options);
  if (!first.ok) throw new EgressRefused(first.reason);
  const firstAddresses = await checkAddresses(env, first.url, options, deadline);
  if (!firstAddresses.ok) throw new EgressRefused(firstAddresses.reason);

  let current = first.url;
  let method: string = input.method;
  for (let hop = 0; ; hop++) {
    const response = await fetch(current, { method, headers, body, redirect: "manual", signal: deadline });
    const location = response.headers.get("location");
    if (mutating || !REDIRECT_STATUSES.has(response.status) || !location) return outcome(response, current, revealed);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      return outcome(
        response,
        current,
        revealed,
        refuseEgress("the redirect's Location is not a valid URL", null).reason,
      );
    }
    if (hop >= MAX_REDIRECTS) {
      await response.body?.cancel();
      throw refused(`more than ${MAX_REDIRECTS} redirects`, next);
    }
    if (response.status === 303 && method !== "HEAD") method = "GET";
    const verdict = checkEgress(http, method, next.href, options);
    const checked = verdict.ok ? await checkAddresses(env, verdict.url, options, deadline) : verdict;
    if (!checked.ok) return outcome(response, current, revealed, checked.reason);
    await response.body?.cancel();
    if (next.origin !== first.url.origin) dropSecretHeaders(headers, revealed);
    current = next;
  }
}

function refused(reason: string, url: URL | null): EgressRefused {
  return new EgressRefused(refuseEgress(reason, url).reason);
}

/** A literal address is judged by the guard; a name's answers are checked, except a development origin's. */
async function checkAddresses(env: Env, url: URL, options: EgressOptions, signal: AbortSignal) {
  if (isDevOrigin(url, options)) return { ok: true as const };
  return checkResolvedHost(env, url, signal);
}

function dropSecretHeaders(headers: Headers, revealed: readonly RevealedSecret[]): void {
  const values = revealed.map((secret) => secret.value).filter((value) => value.length > 0);
  for (const [name, value] of [...headers.entries()]) {
    if (CREDENTIAL_HEADERS.includes(name) || values.some((secret) => value.includes(secret))) headers.delete(name);
  }
}

async function outcome(
  response: Response,
  url: URL,
  revealed: readonly RevealedSecret[],
  redirectRefused?: string,
): Promise<HttpOutcome> {
  const read = await readCapped(response, MAX_ARTIFACT_BODY + REDACTION_MARGIN);
  const redacted = redactSecrets(read.text, revealed);
  const truncated = read.truncated || redacted.length > MAX_ARTIFACT_BODY;
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: redacted.slice(0, MAX_ARTIFACT_BODY),
    truncated,
    finalUrl: url.href,
    ...(redirectRefused ? { redirectRefused } : {}),
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
