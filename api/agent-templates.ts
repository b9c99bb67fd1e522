/**
 * The templates an org's agents start from. The built-in assistant may reach the development echo at this server's
 * own origins: both the `localhost` and `127.0.0.1` forms, since a page opened on one may be sent a message naming
 * the other (`npm start` puts both in PARLOR_DEV_ALLOW_ORIGINS). Outside development it has no HTTP tool.
 */
import type { AgentTemplate } from "../protocol/agent-templates";
import { devAuthEnabled } from "./auth/dev-token";

const LOOPBACK_FORMS = ["localhost", "127.0.0.1"];

/** The echo's base URLs at the request's origin in its loopback forms; none outside development. */
export function devEchoBaseUrls(env: Env, requestUrl: string): string[] {
  if (!devAuthEnabled(env, requestUrl)) return [];
  const url = new URL(requestUrl);
  const forms = LOOPBACK_FORMS.includes(url.hostname) ? LOOPBACK_FORMS : [url.hostname];
  return forms.map((hostname) => {
    const form = new URL(url.origin);
    form.hostname = hostname;
    return `${form.origin}/api/dev/echo`;
  });
}

export function agentTemplates(env: Env, requestUrl: string): AgentTemplate[] {
  const echo = devEchoBaseUrls(env, requestUrl);
  return [
    {
      id: "assistant",
      description:
        "A helpful team assistant that can search the chat's history" +
        (echo.length > 0 ? " and call the development echo (each POST waits for approval)." : "."),
      agent: {
        name: "Assistant",
        handle: "assistant",
        systemPrompt: "You help the team. Keep answers short.",
        trigger: "mention",
        tools: {
          history: {},
          ...(echo.length > 0
            ? { http: { allow: echo.map((baseUrl) => ({ baseUrl, methods: ["GET" as const, "POST" as const] })) } }
            : {}),
        },
      },
    },
  ];
}
