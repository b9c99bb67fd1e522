/**
 * `parlor-local`: the built-in model, a real AI SDK language model (provider spec v4) that needs no key and no
 * network, so every feature can be tried offline. It is deterministic:
 *
 * - It answers the last user message with `You said: "<that message>"` (the message's text, without the
 *   `[speaker]` tag Parlor puts before it), streamed word by word at a steady pace
 *   (`PARLOR_LOCAL_MODEL_DELAY_MS`, default 50 ms a word).
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";

export const LOCAL_MODEL_ID = "parlor-local";

export function localModel(options: { delayMs: number }): LanguageModelV4 {
  return {
    specificationVersion: "v4",
    provider: "parlor",
    modelId: LOCAL_MODEL_ID,
    supportedUrls: {},
    async doGenerate(call) {
      const text = replyTo(call.prompt);
      return {
        content: [{ type: "text", text }],
        finishReason: { unified: "stop", raw: "stop" },
        usage: usage(call.prompt, text),
        warnings: [],
      };
    },
    async doStream(call: LanguageModelV4CallOptions) {
      const text = replyTo(call.prompt);
      const words = text.match(/\S+\s*/g) ?? [];
      const signal = call.abortSignal;
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        async start(controller) {
          controller.enqueue({ type: "stream-start", warnings: [] });
          controller.enqueue({ type: "text-start", id: "reply" });
          for (const word of words) {
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
            usage: usage(call.prompt, text),
          });
          controller.close();
        },
      });
      return { stream };
    },
  };
}

/** The reply the local model gives: it quotes the last user message it was shown. */
export function replyTo(prompt: LanguageModelV4Prompt): string {
  const lastUser = [...prompt].reverse().find((message) => message.role === "user");
  const said =
    lastUser?.role === "user"
      ? lastUser.content
          .map((part) => (part.type === "text" ? part.text : ""))
          .join(" ")
          .replace(/^\[[^\]]*\]\s*/, "")
          .trim()
      : "";
  return said ? `You said: "${said}"` : "Hello! Mention me with a message and I will answer it.";
}

function usage(prompt: LanguageModelV4Prompt, text: string): LanguageModelV4Usage {
  const inputWords = JSON.stringify(prompt).split(/\s+/).length;
  const outputWords = text.split(/\s+/).length;
  return {
    inputTokens: { total: inputWords, noCache: inputWords, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: outputWords, text: outputWords, reasoning: 0 },
  };
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
