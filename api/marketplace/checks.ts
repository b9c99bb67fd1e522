/**
 * The automated checks a submission passes before a moderator sees it. Each answers the problems it finds in
 * words a publisher can act on; an empty list passes. Pure: the publisher's secret values are passed in.
 */
import { isDevOrigin, isPrivateHost } from "../../agents/tools/egress";
import { MAX_SYSTEM_PROMPT } from "../../protocol/agents";
import { type ListingDefinition, MAX_DEFINITION_BYTES } from "../../protocol/marketplace";
import { isPlainHeaderValue, SECRET_REFERENCE } from "../../protocol/secrets";

const KNOWN_TOOLS = new Set(["http", "history"]);

/** Shapes of credentials people paste by mistake: vendor key prefixes, private keys, JWTs, long opaque tokens. */
const SECRET_SHAPES: { name: string; pattern: RegExp }[] = [
  { name: "an API key (sk-…)", pattern: /\bsk-[A-Za-z0-9_-]{16,}/ },
  { name: "a Stripe key", pattern: /\b[rs]k_(live|test)_[A-Za-z0-9]{10,}/ },
  { name: "a GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{20,}/ },
  { name: "an AWS access key", pattern: /\bAKIA[0-9A-Z]{16}\b/ },
  { name: "a Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { name: "a private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: "a JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  { name: "a long opaque token", pattern: /[A-Za-z0-9+/_=-]{40,}/ },
];
/** Shorter values would match ordinary words. */
const MIN_SECRET_VALUE_CHECKED = 6;

export type CheckContext = {
  /** The publisher org's secret values, so none is published by being pasted into a prompt. */
  secretValues: readonly string[];
  development: boolean;
  devAllowOrigins: readonly string[];
};

/** What a publisher writes beside the definition: the listing's description and the version's change note. */
export type SubmissionTexts = { description: string; note: string | null };

export function checkSubmission(
  definition: ListingDefinition,
  { description, note }: SubmissionTexts,
  context: CheckContext,
): string[] {
  const problems: string[] = [];
  const texts: [string, string][] = [
    ["the name", definition.name],
    ["the description", description],
    ...(note === null ? [] : [["the change note", note] as [string, string]]),
    ["the prompt", definition.systemPrompt],
  ];
  for (const [where, text] of texts) {
    if (text.includes("{{secret:")) problems.push(`${where} holds a {{secret:…}} reference: only header values may`);
  }
  const urls = definition.tools.http?.allow.map((rule) => rule.baseUrl) ?? [];
  const headers = Object.entries(definition.tools.http?.headers ?? {});
  const literalTexts: [string, string][] = [
    ...texts,
    ...urls.map((url): [string, string] => [`the allow-list URL ${originOf(url)}`, url]),
    ...headers.map(([name, value]): [string, string] => [`the header ${name}`, value.replace(SECRET_REFERENCE, "")]),
  ];
  for (const [where, text] of literalTexts) {
    const shape = SECRET_SHAPES.find(({ pattern }) => pattern.test(text));
    if (shape) problems.push(`${where} looks like it holds ${shape.name}: put secrets in {{secret:NAME}} headers`);
    else if (holdsSecretValue(text, context.secretValues)) {
      problems.push(`${where} holds the value of one of your org's secrets`);
    }
  }
  problems.push(...toolProblems(definition, context));
  if (definition.systemPrompt.length > MAX_SYSTEM_PROMPT) {
    problems.push(`the prompt is over ${MAX_SYSTEM_PROMPT} characters`);
  }
  const bytes = new TextEncoder().encode(JSON.stringify(definition)).byteLength;
  if (bytes > MAX_DEFINITION_BYTES) problems.push(`the definition is over ${MAX_DEFINITION_BYTES} bytes`);
  return problems;
}

function toolProblems(definition: ListingDefinition, context: CheckContext): string[] {
  const problems: string[] = [];
  for (const tool of Object.keys(definition.tools)) {
    if (!KNOWN_TOOLS.has(tool)) problems.push(`the tool "${tool}" is not one Parlor offers`);
  }
  const http = definition.tools.http;
  if (!http) return problems;
  for (const rule of http.allow) {
    let url: URL;
    try {
      url = new URL(rule.baseUrl);
    } catch {
      problems.push(`the allow list names ${JSON.stringify(rule.baseUrl)}, which is not a URL`);
      continue;
    }
    if (url.username || url.password) problems.push(`the allow-list URL ${url.origin} carries credentials`);
    if (isPrivateHost(url.hostname) && !isDevOrigin(url, context)) {
      problems.push(`the allow list names ${url.hostname}, a private host`);
    }
  }
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (isPlainHeaderValue(value)) problems.push(`the header ${name} holds a plain value: use {{secret:NAME}}`);
  }
  if (http.approval && typeof http.approval.approvers === "object") {
    problems.push("the approval policy names people of your org: publish it with initiator, members or admins");
  }
  return problems;
}

function holdsSecretValue(text: string, values: readonly string[]): boolean {
  return values.some((value) => value.length >= MIN_SECRET_VALUE_CHECKED && text.includes(value));
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(not a URL)";
  }
}
