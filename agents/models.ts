/**
 * Which language model an agent runs: OpenAI (or any OpenAI-compatible server) when OPENAI_API_KEY is set,
 * otherwise the built-in `parlor-local`. Tests register scripted models (`ai/test`) under names of their own.
 */
import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { LOCAL_MODEL_ID, localModel } from "./local-model";

/** How long one model call may take, a run's step or a summary. */
export const MODEL_TIMEOUT_MS = 120_000;

const registered = new Map<string, () => LanguageModelV4>();

/** Makes `name` resolve to the model `make` returns; for tests, which cannot reach a model vendor. */
export function registerModel(name: string, make: () => LanguageModelV4): void {
  registered.set(name, make);
}

/** `parlor-local`, or `parlor-local:<ms>` for its pace in milliseconds a word (0: as fast as it can). */
const LOCAL = new RegExp(`^${LOCAL_MODEL_ID}(?::(\\d{1,5}))?$`);

export function resolveModel(env: Env, name: string | null): LanguageModelV4 {
  const scripted = name ? registered.get(name) : undefined;
  if (scripted) return scripted();
  const local = name?.match(LOCAL);
  if (!env.OPENAI_API_KEY || local) {
    const pace = local?.[1] ?? env.PARLOR_LOCAL_MODEL_DELAY_MS ?? "50";
    return localModel({ delayMs: Number(pace), clockProbe: env.PARLOR_ENV === "development" });
  }
  const openai = createOpenAI({
    apiKey: env.OPENAI_API_KEY,
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
  });
  return openai.chat(name ?? "gpt-4o-mini");
}
