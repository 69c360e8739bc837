/**
 * The chat format: how a conversation becomes plain text for a character-level GPT. Fine-tuning
 * data is written in it and the API's chat endpoint renders requests in it, so a model tuned on
 * the one answers the other.
 *
 *     System: You answer in one sentence.
 *     User: What is a whale?
 *     Assistant: A whale is a great fish of the sea.
 *     User: And a harpoon?
 *     Assistant:
 *
 * - Each message is one line: its role's label, a colon, a space, its text, then a newline.
 *   The labels are `System` (the `system` role), `User` and `Assistant`.
 * - A prompt for the assistant ends with `Assistant:` (no space, no newline): the model writes the
 *   space and the reply itself.
 * - The reply ends at the next newline followed by `User:` (the model starting the next turn
 *   itself) or at a blank line (two newlines in a row). Neither end marker is part of the reply.
 * - Inside a message, line breaks are kept (`\r\n` and `\r` become `\n`), but a blank line would
 *   end the turn, so runs of line breaks become one, and a line break at either end is dropped.
 *
 * The format itself uses only letters, `:`, space and newline, characters every English corpus
 * (and so every vocabulary built from one, Moby-Dick's included) has. Pure: no tfjs, no DOM.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Each role's label in the text. */
export const ROLE_LABELS: Readonly<Record<ChatRole, string>> = { system: 'System', user: 'User', assistant: 'Assistant' };

/** Where an assistant's reply ends, in the order `parseAssistantReply` looks for them. */
export const CHAT_STOP: readonly string[] = ['\nUser:', '\n\n'];

/** What a prompt for the assistant ends with. */
export const ASSISTANT_PROMPT = `${ROLE_LABELS.assistant}:`;

/** A message's text as it is written on its line: line breaks normalised, no blank lines. */
function messageText(content: string): string {
  return content.replace(/\r\n?/g, '\n').replace(/\n{2,}/g, '\n').replace(/^\n|\n$/g, '');
}

/**
 * The conversation as text, one line per message, each followed by a newline. With
 * `forAssistant`, `Assistant:` is appended: the prompt the model continues with its reply.
 */
export function renderChat(messages: readonly ChatMessage[], options: { forAssistant?: boolean } = {}): string {
  let text = '';
  for (const m of messages) text += `${ROLE_LABELS[m.role]}: ${messageText(m.content)}\n`;
  if (options.forAssistant) text += ASSISTANT_PROMPT;
  return text;
}

/**
 * The assistant's reply in what the model wrote after `Assistant:`: up to the first end marker
 * (`\nUser:` or a blank line), without the one space that follows the colon.
 */
export function parseAssistantReply(text: string): string {
  let end = text.length;
  for (const marker of CHAT_STOP) {
    const at = text.indexOf(marker);
    if (at !== -1 && at < end) end = at;
  }
  const reply = text.slice(0, end);
  return reply.startsWith(' ') ? reply.slice(1) : reply;
}
