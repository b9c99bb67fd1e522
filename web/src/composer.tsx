/** The message box: Enter sends, Shift+Enter starts a new line, Esc clears what is being written. */
import { useState } from "preact/hooks";

export function Composer({
  disabled,
  onSend,
  onTyping,
}: {
  disabled: boolean;
  onSend: (text: string) => void;
  onTyping: () => void;
}) {
  const [text, setText] = useState("");
  function send() {
    if (!text.trim()) return;
    onSend(text);
    setText("");
  }
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea
        name="message"
        aria-label="Message (Enter sends, Shift+Enter new line)"
        placeholder="Message (Enter sends, Shift+Enter new line)"
        rows={Math.min(6, text.split("\n").length)}
        value={text}
        autocomplete="off"
        disabled={disabled}
        onInput={(e) => {
          setText(e.currentTarget.value);
          onTyping();
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          } else if (e.key === "Escape") {
            setText("");
          }
        }}
      />
      <button type="submit" disabled={disabled}>
        Send
      </button>
    </form>
  );
}
