/**
 * The web client's Content-Security-Policy, built per deploy: strict without Clerk, and with exactly what Clerk's
 * documented CSP requirements add when `CLERK_PUBLISHABLE_KEY` names an instance (docs/decisions.md, "CSP with Clerk").
 */

type Directives = Record<string, string[]>;

/** No Clerk: only this origin, and `img-src 'self' data:` so a message never makes a reader fetch a stranger's URL. */
const STRICT: Directives = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "connect-src": ["'self'"],
  "font-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

/** Cloudflare's bot protection, which Clerk's sign-up embeds as a script and a frame. */
const CLERK_CHALLENGES = "https://challenges.cloudflare.com";
/** Clerk's image host: the sign-in's logo and social icons, and avatars. */
const CLERK_IMAGES = "https://img.clerk.com";

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Clerk's Frontend API origin from a publishable key: `pk_test_`/`pk_live_` and the base64 of `<host>$`. Null for
 * anything else, so a mistyped key cannot smuggle a source list (`; script-src *`) into the header.
 */
export function clerkFrontendApiOrigin(publishableKey: string): string | null {
  const match = /^pk_(test|live)_([A-Za-z0-9+/]+={0,2})$/.exec(publishableKey);
  if (!match) return null;
  let decoded: string;
  try {
    decoded = atob(match[2]);
  } catch {
    return null;
  }
  if (!decoded.endsWith("$")) return null;
  const host = decoded.slice(0, -1).toLowerCase();
  return HOSTNAME.test(host) ? `https://${host}` : null;
}

function withClerk(frontendApi: string): Directives {
  return {
    ...STRICT,
    "script-src": ["'self'", frontendApi, CLERK_CHALLENGES],
    // Clerk's components style themselves at run time (CSS-in-JS), which needs inline styles.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", CLERK_IMAGES],
    "connect-src": ["'self'", frontendApi],
    "worker-src": ["'self'", "blob:"],
    "frame-src": [CLERK_CHALLENGES],
  };
}

const serialise = (directives: Directives) =>
  Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(" ")}`)
    .join("; ");

/** The strict policy, as `web/public/_headers` also states it for the files served without the Worker. */
export const strictPolicy = serialise(STRICT);

export type PagePolicy = { policy: string; clerkFrontendApi: string | null; badKey: boolean };

export function pagePolicy(publishableKey: string | undefined): PagePolicy {
  if (!publishableKey) return { policy: strictPolicy, clerkFrontendApi: null, badKey: false };
  const origin = clerkFrontendApiOrigin(publishableKey);
  // A key we cannot read keeps the strict policy: Clerk fails to load, visibly, rather than the page opening up.
  if (!origin) return { policy: strictPolicy, clerkFrontendApi: null, badKey: true };
  return { policy: serialise(withClerk(origin)), clerkFrontendApi: origin, badKey: false };
}
