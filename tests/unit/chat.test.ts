import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ASSISTANT_PROMPT, CHAT_STOP, parseAssistantReply, renderChat, ROLE_LABELS, type ChatMessage } from '../../src/corpus/chat';
import { decodeSafetensors } from '../../src/engine/safetensors';

const conversation: ChatMessage[] = [
  { role: 'system', content: 'You answer in one sentence.' },
  { role: 'user', content: 'What is a whale?' },
  { role: 'assistant', content: 'A whale is a great fish of the sea.' },
  { role: 'user', content: 'And a harpoon?' },
];

describe('renderChat', () => {
  it('writes one line per message, each ending in a newline', () => {
    expect(renderChat(conversation)).toBe(
      'System: You answer in one sentence.\n' +
        'User: What is a whale?\n' +
        'Assistant: A whale is a great fish of the sea.\n' +
        'User: And a harpoon?\n',
    );
  });

  it('ends a prompt for the assistant with "Assistant:"', () => {
    const prompt = renderChat(conversation, { forAssistant: true });
    expect(prompt.endsWith('\nUser: And a harpoon?\nAssistant:')).toBe(true);
    expect(renderChat([], { forAssistant: true })).toBe(ASSISTANT_PROMPT);
  });

  it('keeps line breaks inside a message but never a blank line, which would end the turn', () => {
    const text = renderChat([{ role: 'user', content: '\nline one\r\nline two\r\rline three\n\n\n' }]);
    expect(text).toBe('User: line one\nline two\nline three\n');
    expect(text).not.toContain('\n\n');
  });

  it('uses only characters of the shipped model’s vocabulary (the Moby-Dick corpus)', () => {
    const { metadata } = decodeSafetensors(readFileSync('public/models/base.safetensors'));
    const vocabulary = new Set(JSON.parse(metadata.vocabulary) as string[]);
    const format = Object.values(ROLE_LABELS).join('') + ': \n' + CHAT_STOP.join('') + ASSISTANT_PROMPT;
    for (const ch of format) expect(vocabulary.has(ch), JSON.stringify(ch)).toBe(true);
  });
});

describe('parseAssistantReply', () => {
  it.each([
    [' Call me Ishmael.', 'Call me Ishmael.'],
    [' Call me Ishmael.\nUser: and then?', 'Call me Ishmael.'],
    [' Call me Ishmael.\n\nSome years ago', 'Call me Ishmael.'],
    [' two lines\nof reply\nUser: next', 'two lines\nof reply'],
    ['no space', 'no space'],
    ['  two spaces', ' two spaces'],
    ['', ''],
    ['\nUser: hi', ''],
    [' a\n\nb\nUser: c', 'a'],
    [' Users: are not User: turns', 'Users: are not User: turns'],
  ])('%j → %j', (text, reply) => {
    expect(parseAssistantReply(text)).toBe(reply);
  });

  it('reads back the reply that renderChat wrote', () => {
    const full = renderChat(conversation);
    const afterFirstReply = full.slice(full.indexOf(ASSISTANT_PROMPT) + ASSISTANT_PROMPT.length);
    expect(parseAssistantReply(afterFirstReply)).toBe('A whale is a great fish of the sea.');
  });
});
