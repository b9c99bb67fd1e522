/**
 * Message text as Markdown, made inert: raw HTML is shown as text, images become links (never loaded, so reading a
 * message fetches no stranger's URL; the page's CSP, `img-src 'self' data:`, backs this up), and links are http(s)
 * or mailto only, opening in a new tab with no opener and no referrer.
 */
import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";

const ALLOWED_TAGS = [
  "p",
  "br",
  "strong",
  "em",
  "del",
  "code",
  "pre",
  "blockquote",
  "ul",
  "ol",
  "li",
  "a",
  "hr",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // A person's `<img onerror=…>` is their text, not markup.
    html: (token: Tokens.HTML | Tokens.Tag) => escapeHtml(token.text),
    image: (token: Tokens.Image) =>
      `<a href="${escapeHtml(token.href)}" class="image-link">image: ${escapeHtml(token.text || token.href)}</a>`,
  },
});

const purifier = DOMPurify();
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName !== "A") return;
  if (node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

/** Sanitised HTML for a message's text. */
export function renderMarkdown(text: string): string {
  // Messages are shown with white-space: pre-wrap, so the newlines marked puts between blocks would add blank lines.
  const html = marked.parse(text, { async: false }).replace(/>\n+</g, "><");
  return purifier
    .sanitize(html, {
      ALLOWED_TAGS,
      ALLOWED_ATTR: ["href", "title", "class"],
      ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    })
    .trim();
}

export function Markdown({ text }: { text: string }) {
  // Safe: renderMarkdown sanitises with DOMPurify and an allow list (above).
  return <span class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}
