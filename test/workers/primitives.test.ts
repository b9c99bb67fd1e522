import { describe, expect, it } from "vitest";
import { cutText, decimalParam, storableText, writtenText } from "../../protocol/primitives";
import { parseStrictJson } from "../../protocol/strict-json";

describe("the shared input rules", () => {
  it("numbers are plain decimal integers within their bounds", () => {
    const limit = decimalParam({ min: 1, max: 500 });
    for (const good of ["1", "10", "500"]) expect(limit.safeParse(good).success, good).toBe(true);
    for (const bad of ["0", "501", "", " 5", "5 ", "1e3", "0x10", "+1", "-1", "01", "1.0", "٣", "99999999999999999"]) {
      expect(limit.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(decimalParam().parse("0")).toBe(0);
    expect(decimalParam().parse("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(decimalParam().safeParse("9007199254740992").success).toBe(false);
  });

  it("written text is well-formed Unicode without NUL, within its size", () => {
    const text = writtenText({ maxBytes: 8 });
    expect(text.safeParse("héllo").success).toBe(true);
    expect(text.safeParse("a\u0000b").success).toBe(false);
    expect(text.safeParse("a\ud800").success).toBe(false);
    expect(text.safeParse("\udc00a").success).toBe(false);
    expect(text.safeParse("   ").success).toBe(false);
    expect(text.safeParse("€€€").success).toBe(false); // 9 bytes
    const title = writtenText({ maxChars: 5, trim: true });
    expect(title.parse("  hi  ")).toBe("hi");
  });

  it("JSON at the boundary refuses deep nesting and bad strings anywhere, keys included", () => {
    expect(parseStrictJson('{"a":[1,{"b":"c"}]}')).toEqual({ ok: true, value: { a: [1, { b: "c" }] } });
    expect(parseStrictJson(`${"[".repeat(33)}${"]".repeat(33)}`).ok).toBe(false);
    expect(parseStrictJson(`${"[".repeat(32)}${"]".repeat(32)}`).ok).toBe(true);
    expect(parseStrictJson('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]').ok).toBe(true); // brackets inside a string
    expect(parseStrictJson('{"k\\u0000":1}').ok).toBe(false);
    expect(parseStrictJson('{"k":["\\ud800"]}').ok).toBe(false);
    expect(parseStrictJson("{").ok).toBe(false);
  });

  it("a model's text is made storable, and cut without splitting a surrogate pair", () => {
    expect(storableText("a\u0000b\ud800")).toBe("ab\ufffd");
    expect(cutText("ab😀", 3)).toBe("ab");
    expect(cutText("ab😀", 4)).toBe("ab😀");
    expect(cutText("abc", 10)).toBe("abc");
  });
});
