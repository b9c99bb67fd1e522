/**
 * Names are resolved before a request is sent, through the DNS-over-HTTPS resolver at `PARLOR_DOH_URL` (its JSON
 * API, as Cloudflare's and Google's serve it), and refused when any A or AAAA answer is not public, or when there is
 * no answer at all. No resolver configured: every name is refused (a literal address needs none).
 *
 * workerd's fetch cannot be told which address to connect to, so the name is resolved again when the request is sent:
 * a name that changes its answers between this check and that connection (DNS rebinding) is not caught here.
 */
import { type EgressRefusal, hostAddress, isPrivateAddress, refuseEgress } from "./egress";

const DOH_TIMEOUT_MS = 5_000;
const TYPE_A = 1;
const TYPE_AAAA = 28;

type DohAnswer = { Status?: number; Answer?: { name?: string; type?: number; data?: string }[] };

/** Ok, or the refusal: every address the name has must be public. */
export async function checkResolvedHost(
  env: Pick<Env, "PARLOR_DOH_URL">,
  url: URL,
  signal?: AbortSignal,
): Promise<{ ok: true; addresses: string[] } | EgressRefusal> {
  const literal = hostAddress(url.hostname);
  if (literal) {
    return isPrivateAddress(literal)
      ? refuseEgress(`${url.hostname} is a private address`, url)
      : { ok: true, addresses: [literal.toString()] };
  }
  const name = url.hostname.replace(/\.$/, "");
  if (!env.PARLOR_DOH_URL) {
    return refuseEgress(`${name} cannot be resolved: no resolver is configured (PARLOR_DOH_URL)`, url);
  }
  let answers: string[][];
  try {
    answers = await Promise.all(
      [TYPE_A, TYPE_AAAA].map((type) => lookUp(env.PARLOR_DOH_URL as string, name, type, signal)),
    );
  } catch (error) {
    const why = error instanceof Error ? error.message : "the resolver failed";
    return refuseEgress(`${name} could not be resolved (${why})`, url);
  }
  const addresses = answers.flat();
  if (addresses.length === 0) return refuseEgress(`${name} does not resolve to any address`, url);
  const bad = addresses.find((address) => isPrivateAddress(address));
  if (bad) return refuseEgress(`${name} resolves to a private address (${bad})`, url);
  return { ok: true, addresses };
}

async function lookUp(dohUrl: string, name: string, type: number, signal?: AbortSignal): Promise<string[]> {
  const query = new URL(dohUrl);
  query.searchParams.set("name", name);
  query.searchParams.set("type", type === TYPE_A ? "A" : "AAAA");
  const timeout = AbortSignal.timeout(DOH_TIMEOUT_MS);
  const response = await fetch(query, {
    headers: { accept: "application/dns-json" },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (!response.ok) throw new Error(`the resolver answered ${response.status}`);
  const body = (await response.json()) as DohAnswer;
  // NXDOMAIN (3) is no address; any other failure is a refusal, not an empty answer.
  if (body.Status === 3) return [];
  if (body.Status !== 0) throw new Error(`the resolver's status was ${body.Status}`);
  return (body.Answer ?? [])
    .filter((answer) => answer.type === type && typeof answer.data === "string")
    .map((answer) => String(answer.data).trim());
}
