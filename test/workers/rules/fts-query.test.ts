import { describe, expect, it } from "vitest";
import { ftsQuery } from "../../../rooms/search-index";

describe("a search query as FTS5 sees it", () => {
  it("each word is a quoted phrase of its own, and all are required", () => {
    expect(ftsQuery("deploy the service")).toBe('"deploy" "the" "service"');
    expect(ftsQuery("  Crème   brûlée ")).toBe('"Crème" "brûlée"');
    expect(ftsQuery("日本語 テキスト")).toBe('"日本語" "テキスト"');
  });

  it("search syntax is never an operator: quotes, stars, NEAR, boolean words, columns, carets", () => {
    expect(ftsQuery('"unterminated')).toBe('"unterminated"');
    expect(ftsQuery("dep*")).toBe('"dep"');
    expect(ftsQuery("NEAR(a b, 3)")).toBe('"NEAR" "a" "b" "3"');
    expect(ftsQuery("a OR b NOT c AND d")).toBe('"a" "OR" "b" "NOT" "c" "AND" "d"');
    expect(ftsQuery("text:secret ^start -minus +plus")).toBe('"text" "secret" "start" "minus" "plus"');
  });

  it("nothing to search for is null; at most 16 words", () => {
    for (const q of ['"', "*", "()", "-- ;", "🦀", ""]) expect(ftsQuery(q)).toBeNull();
    const many = Array.from({ length: 20 }, (_, i) => `w${i}`).join(" ");
    expect(ftsQuery(many)?.split(" ")).toHaveLength(16);
  });
});
