/** The REST calls the web client makes, with the development token of the signed-in tab. */
import type { ErrorBody } from "../../protocol/errors";

const TOKEN_KEY = "parlor.token";
const USER_KEY = "parlor.user";

// sessionStorage, so two tabs can be two different people chatting with each other.
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  user: () => sessionStorage.getItem(USER_KEY),
  save(token: string, userId: string) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, userId);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

export class RequestFailed extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json().catch(() => null)) as (T & Partial<ErrorBody>) | null;
  if (!response.ok) {
    if (response.status === 401) session.clear();
    throw new RequestFailed(response.status, json?.error?.message ?? `request failed (${response.status})`);
  }
  return json as T;
}

export type Org = { id: string; name: string; role: "admin" | "member" };
export type Chat = { id: string; title: string };
export type Member = { userId: string; name: string; role?: string };
