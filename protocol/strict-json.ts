/**
 * JSON as every boundary reads it (REST bodies and socket frames): at most 32 levels deep, and every string and key
 * well-formed Unicode without NUL. PostgreSQL refuses both a lone surrogate and NUL in text and jsonb, so a body that
 * slipped one past a field's own schema (into a free-form field) would otherwise end as a 500, not a 400.
 */
export const MAX_JSON_DEPTH = 32;

/** A refused value is still returned when it parsed, so a socket error can name the frame's clientMessageId. */
export type StrictJson = { ok: true; value: unknown } | { ok: false; reason: string; value?: unknown };

export function parseStrictJson(text: string): StrictJson {
  if (depthOf(text) > MAX_JSON_DEPTH)
    return { ok: false, reason: `JSON is nested deeper than ${MAX_JSON_DEPTH} levels` };
  let bad: string | null = null;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, item) => {
      if (bad === null && (!acceptable(key) || (typeof item === "string" && !acceptable(item)))) {
        bad = "strings must be well-formed Unicode (no lone surrogates) without NUL (U+0000)";
      }
      return item;
    });
  } catch {
    return { ok: false, reason: "body is not valid JSON" };
  }
  return bad === null ? { ok: true, value } : { ok: false, reason: bad, value };
}

function acceptable(text: string): boolean {
  return text.isWellFormed() && !text.includes("\u0000");
}

/** The deepest nesting of arrays and objects, skipping brackets inside strings. */
function depthOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x5d || char === 0x7d) depth--;
  }
  return deepest;
}
