/**
 * `parlor-local`: the built-in model, a real AI SDK language model (provider spec v4) that needs no key and no
 * network, so every feature can be tried offline. It is deterministic:
 *
 * - A message holding an HTTP method and a URL (`POST https://api.example.com/items {"a":1}`) makes it call the
 *   `http_request` tool with exactly that request (method, URL, and the rest of the line as the body); when the
 *   result comes back it replies with the response's status (or says the request was not sent, and why).
 * - `history: WORDS` makes it call the `chat_history` tool with WORDS, then reply with how many earlier messages
 *   mention them, quoting up to three.
 * - Asked by Parlor's summary job (its system prompt carries `[parlor:summarize]`), it lists each message of the
 *   transcript by its first words: `Earlier in this chat: Ana: we ship on… · Bo: …`.
 * - In development only, `clock: N` (N up to 100,000) streams N words, each the time (epoch ms) at which it was produced: a probe for
 *   measuring how long a token takes to reach every socket (`npm run bench`).
 * - Anything else gets `You said: "<the message>"` (the message's text, without the `[speaker]` tag Parlor puts
 *   before it).
 *
 * A tool is called only if the agent has it. Replies stream word by word at a steady pace
 * (`PARLOR_LOCAL_MODEL_DELAY_MS`, default 50 ms a word).
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";

export const LOCAL_MODEL_ID = "parlor-local";

const HTTP_CALL = /\b(GET|HEAD|POST|PUT|PATCH|DELETE)\s+(https?:\/\/\S+)(?:\s+(.+))?/s;
const HISTORY_CALL = /\bhistory:\s*(.+)/is;

type Plan =
  | { kind: "text"; text: string }
  | { kind: "clock"; words: number }
  | { kind: "tool"; toolName: string; input: Record<string, unknown> };

export function localModel(options: { delayMs: number; clockProbe?: boolean }): LanguageModelV4 {
  return {
    specificationVersion: "v4",
    provider: "parlor",
    modelId: LOCAL_MODEL_ID,
    supportedUrls: {},
    async doGenerate(call) {
      const plan = planFor(call, false);
      if (plan.kind === "clock") throw new Error("the clock probe only streams");
      return {
        content:
          plan.kind === "text"
            ? [{ type: "text", text: plan.text }]
            : [
                {
                  type: "tool-call",
                  toolCallId: toolCallId(call.prompt),
                  toolName: plan.toolName,
                  input: JSON.stringify(plan.input),
                },
              ],
        finishReason: { unified: plan.kind === "text" ? "stop" : "tool-calls", raw: undefined },
        usage: usage(call.prompt, plan.kind === "text" ? plan.text : ""),
        warnings: [],
      };
    },
    async doStream(call: LanguageModelV4CallOptions) {
      const plan = planFor(call, options.clockProbe ?? false);
      const signal = call.abortSignal;
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        async start(controller) {
          controller.enqueue({ type: "stream-start", warnings: [] });
          if (plan.kind === "tool") {
            await sleep(options.delayMs);
            controller.enqueue({
              type: "tool-call",
              toolCallId: toolCallId(call.prompt),
              toolName: plan.toolName,
              input: JSON.stringify(plan.input),
            });
            controller.enqueue({
              type: "finish",
              finishReason: { unified: "tool-calls", raw: undefined },
              usage: usage(call.prompt, ""),
            });
            controller.close();
            return;
          }
          controller.enqueue({ type: "text-start", id: "reply" });
          if (plan.kind === "clock") {
            for (let i = 0; i < plan.words; i++) {
              // Flat out (pace 0), it yields to I/O every 64 words only, so the clock still moves on in workerd.
              if (options.delayMs > 0 || i % 64 === 0) await sleep(options.delayMs);
              controller.enqueue({ type: "text-delta", id: "reply", delta: `${Date.now()} ` });
            }
            controller.enqueue({ type: "text-end", id: "reply" });
            controller.enqueue({
              type: "finish",
              finishReason: { unified: "stop", raw: "stop" },
              usage: usage(call.prompt, ""),
            });
            controller.close();
            return;
          }
          for (const word of plan.text.match(/\S+\s*/g) ?? []) {
            if (signal?.aborted) {
              controller.error(signal.reason ?? new Error("aborted"));
              return;
            }
            await sleep(options.delayMs);
            controller.enqueue({ type: "text-delta", id: "reply", delta: word });
          }
          controller.enqueue({ type: "text-end", id: "reply" });
          controller.enqueue({
            type: "finish",
            finishReason: { unified: "stop", raw: "stop" },
            usage: usage(call.prompt, plan.text),
          });
          controller.close();
        },
      });
      return { stream };
    },
  };
}

function planFor(call: LanguageModelV4CallOptions, clockProbe: boolean): Plan {
  const system = call.prompt.find((m) => m.role === "system");
  if (system?.role === "system" && system.content.includes("[parlor:summarize]")) {
    return { kind: "text", text: summaryOf(lastUserText(call.prompt)) };
  }
  const last = call.prompt.at(-1);
  if (last?.role === "tool") return { kind: "text", text: afterTools(last.content) };
  const said = lastUserText(call.prompt);
  const clock = clockProbe ? said.match(/\bclock:\s*(\d{1,6})\b/) : null;
  if (clock) return { kind: "clock", words: Math.min(100_000, Number(clock[1])) };
  const tools = new Set((call.tools ?? []).map((tool) => tool.name));
  const http = said.match(HTTP_CALL);
  if (http && tools.has("http_request")) {
    const [, method, url, body] = http;
    return {
      kind: "tool",
      toolName: "http_request",
      input: body?.trim() ? { method, url, body: body.trim() } : { method, url },
    };
  }
  const history = said.match(HISTORY_CALL);
  if (history && tools.has("chat_history"))
    return { kind: "tool", toolName: "chat_history", input: { query: history[1].trim() } };
  return { kind: "text", text: replyTo(said) };
}

function summaryOf(transcript: string): string {
  const lines = transcript
    .split("\n")
    .filter((line) => /^[^:]{1,80}: /.test(line))
    .map((line) => {
      const words = line.split(/\s+/);
      return words.length > 7 ? `${words.slice(0, 7).join(" ")}…` : line;
    });
  return `Earlier in this chat: ${lines.join(" · ")}`.slice(0, 2_000);
}

/** The reply the local model gives to plain text: it quotes the message it answers. */
export function replyTo(said: string): string {
  return said ? `You said: "${said}"` : "Hello! Mention me with a message and I will answer it.";
}

function lastUserText(prompt: LanguageModelV4Prompt): string {
  const lastUser = [...prompt].reverse().find((message) => message.role === "user");
  if (lastUser?.role !== "user") return "";
  return lastUser.content
    .map((part) => (part.type === "text" ? part.text : ""))
    .join(" ")
    .replace(/^\[[^\]]*\]\s*/, "")
    .trim();
}

type ToolContent = Extract<LanguageModelV4Prompt[number], { role: "tool" }>["content"];

function afterTools(content: ToolContent): string {
  const lines: string[] = [];
  for (const part of content) {
    if (part.type !== "tool-result") continue;
    const value = (part.output.type === "json" ? part.output.value : null) as Record<string, unknown> | null;
    if (part.toolName === "http_request") {
      if (value && typeof value.status === "number") lines.push(`The request returned ${value.status}.`);
      else if (value && value.sent === false) lines.push(`The request was not sent: it was ${String(value.decision)}.`);
      else lines.push(`The request failed: ${String(value?.error ?? "unknown error")}.`);
    } else if (part.toolName === "chat_history") {
      const found = (value?.messages as { author: string; text: string }[] | undefined) ?? [];
      const quotes = found.slice(0, 3).map((m) => `${m.author}: "${m.text}"`);
      lines.push(
        `I found ${found.length} earlier message${found.length === 1 ? "" : "s"} mentioning "${String(value?.query ?? "")}"${quotes.length ? `: ${quotes.join("; ")}` : "."}`,
      );
    }
  }
  return lines.join(" ") || "Done.";
}

/** Deterministic ids: the same conversation yields the same call id. */
function toolCallId(prompt: LanguageModelV4Prompt): string {
  return `call_${prompt.length}`;
}

function usage(prompt: LanguageModelV4Prompt, text: string): LanguageModelV4Usage {
  const inputWords = JSON.stringify(prompt).split(/\s+/).length;
  const outputWords = text ? text.split(/\s+/).length : 0;
  return {
    inputTokens: { total: inputWords, noCache: inputWords, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: outputWords, text: outputWords, reasoning: 0 },
  };
}

/** Even at pace 0 each word waits for a timer: the stream yields to I/O, and workerd's clock moves on. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
