/**
 * Clerk as the directory of orgs and members. With CLERK_SECRET_KEY set (production), membership changes go to
 * Clerk and come back through its webhook; without it (development), the App API writes them directly.
 */
import { createClerkClient } from "@clerk/backend";
import type { OrgRole } from "./db/schema";

export type ClerkDirectory = ReturnType<typeof createClerkClient>;

export function clerkDirectory(env: Env): ClerkDirectory | null {
  if (!env.CLERK_SECRET_KEY) return null;
  return createClerkClient({
    secretKey: env.CLERK_SECRET_KEY,
    ...(env.CLERK_API_URL ? { apiUrl: env.CLERK_API_URL } : {}),
  });
}

export const clerkRole = (role: OrgRole) => (role === "admin" ? "org:admin" : "org:member");
export const parlorRole = (role: string): OrgRole => (role === "org:admin" ? "admin" : "member");
