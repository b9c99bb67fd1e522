/**
 * The typed client of the App API (`hono/client` over the app's own type), for the web client, tests and scripts.
 * `npm run typecheck` compiles this file's declarations into `web/src/generated/`, so the browser project gets the
 * same types, spelled out, without compiling the Worker's code under the DOM's types.
 */
import { type ClientRequestOptions, hc } from "hono/client";
import type { app } from "./app";

const typed = (baseUrl: string, options?: ClientRequestOptions) => hc<typeof app>(baseUrl, options);
export type ParlorClient = ReturnType<typeof typed>;

export function parlorClient(baseUrl: string, options?: ClientRequestOptions): ParlorClient {
  return typed(baseUrl, options);
}
