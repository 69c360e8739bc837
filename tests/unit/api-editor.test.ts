/**
 * The APIs chapter's request editor logic (src/chapters/apis/requests.ts): header lines, paths kept
 * on the site, server-sent events read piece by piece, and the console and curl snippets.
 */
import { describe, expect, it } from 'vitest';
import { chunkText, curlSnippet, EventReader, fetchSnippet, jsonProblem, parseHeaderLines, PRESETS, resolvePath } from '../../src/chapters/apis/requests';

const BASE = 'http://localhost:4173/gpt-lab/';

describe('parseHeaderLines', () => {
  it('reads Name: value lines, skipping blank ones', () => {
    expect(parseHeaderLines('Content-Type: application/json\n\n  X-Seed:  7 \nAccept: text/event-stream, */*')).toEqual({
      headers: [
        ['Content-Type', 'application/json'],
        ['X-Seed', '7'],
        ['Accept', 'text/event-stream, */*'],
      ],
      error: null,
    });
  });

  it('names the first line that is not a header', () => {
    expect(parseHeaderLines('Accept: */*\nno colon here').error).toMatch(/^Line 2 /);
    expect(parseHeaderLines(': value').error).toMatch(/^Line 1 /);
    expect(parseHeaderLines('Bad Name: x').error).toMatch(/^Line 1 /);
  });
});

describe('resolvePath', () => {
  it('resolves against the site’s address and refuses other origins', () => {
    expect(resolvePath('v1/models', BASE)).toEqual({ url: 'http://localhost:4173/gpt-lab/v1/models', error: null });
    expect(resolvePath('/gpt-lab/v1/models?x=1', BASE).url).toBe('http://localhost:4173/gpt-lab/v1/models?x=1');
    expect(resolvePath('https://api.openai.com/v1/models', BASE).error).toMatch(/this site/);
    expect(resolvePath('//evil.test/v1', BASE).error).toMatch(/this site/);
    expect(resolvePath('  ', BASE).error).toMatch(/path/);
  });
});

describe('EventReader', () => {
  it('returns each event once its blank line has arrived, however the text is cut', () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\r\n\r\n: a comment\n\ndata: [DONE]\n\n';
    for (const size of [1, 3, 7, stream.length]) {
      const reader = new EventReader();
      const seen: string[] = [];
      for (let at = 0; at < stream.length; at += size) seen.push(...reader.push(stream.slice(at, at + size)));
      expect(seen).toEqual(['{"a":1}', '{"b":2}', '[DONE]']);
    }
  });

  it('joins the data lines of one event with newlines', () => {
    expect(new EventReader().push('data: one\ndata: two\n\n')).toEqual(['one\ntwo']);
  });
});

describe('chunkText', () => {
  it('takes the delta of a chat chunk and the text of a completion chunk', () => {
    expect(chunkText('{"choices":[{"index":0,"delta":{"content":"Ahab"}}]}')).toBe('Ahab');
    expect(chunkText('{"choices":[{"index":0,"text":" whale"}]}')).toBe(' whale');
    expect(chunkText('{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}')).toBe('');
    expect(chunkText('{"choices":[],"usage":{"total_tokens":3}}')).toBe('');
    expect(chunkText('[DONE]')).toBe('');
    expect(chunkText('not json')).toBe('');
  });
});

describe('snippets', () => {
  const chat = PRESETS.find((p) => p.id === 'chat')!.request;
  const streamed = PRESETS.find((p) => p.id === 'chat-stream')!.request;

  it('every preset is valid JSON for its method', () => {
    for (const p of PRESETS) {
      if (p.request.method === 'GET') expect(p.request.body).toBe('');
      else expect(jsonProblem(p.request.body)).toBeNull();
    }
  });

  it('a fetch call that sends the same body', () => {
    const code = fetchSnippet(chat, `${BASE}v1/chat/completions`);
    expect(code).toContain(`fetch("${BASE}v1/chat/completions"`);
    const body = /body: JSON\.stringify\((.*)\),\n/.exec(code)![1];
    expect(JSON.parse(body)).toEqual(JSON.parse(chat.body));
    expect(code).toContain('await res.json()');
    expect(fetchSnippet(streamed, `${BASE}v1/chat/completions`)).toContain('getReader()');
    // A body that is not JSON goes as the string it is.
    expect(fetchSnippet({ ...chat, body: '{oops' }, BASE)).toContain('body: "{oops",');
  });

  it('a curl command for npm run serve, quoted for the shell', () => {
    const withQuote = { ...chat, body: JSON.stringify({ model: 'gpt-lab', prompt: "Ahab's leg" }) };
    const cmd = curlSnippet(withQuote);
    expect(cmd.split(' \\\n  ')).toEqual([
      'curl -X POST http://127.0.0.1:8080/v1/chat/completions',
      "-H 'Content-Type: application/json'",
      `-d '{"model":"gpt-lab","prompt":"Ahab'\\''s leg"}'`,
    ]);
    expect(curlSnippet(streamed).split(' \\\n  ')[1]).toBe('-N');
    expect(curlSnippet(PRESETS[0].request)).toBe('curl http://127.0.0.1:8080/v1/models');
  });
});
