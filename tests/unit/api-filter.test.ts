/**
 * The output filter (src/api/filter.ts): the blocklist cuts a completion before a blocked word,
 * plain and streamed, also when the word comes split across tokens and chunks; it is off by
 * default; and — the lesson of the Safety chapter — it is trivially bypassed and over-blocks.
 */
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../src/api/handler';
import { BlocklistScanner, findBlocked, normalizeFilterSettings, parseBlockList, type OutputFilterSettings } from '../../src/api/filter';
import type { CompleteRequest, ModelBackend } from '../../src/api/modelBackend';
import { CharTokenizer } from '../../src/gpt/tokenizer';

const tokenizer = CharTokenizer.fromText("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:'\nа");

/** Says `script`, one character per token, then stops (the handler sees a 'length' finish past it). */
class Scripted implements ModelBackend {
  readonly id = 'scripted';
  readonly created = 1;
  readonly contextLength = 64;
  readonly tokenizer = tokenizer;
  drawn = 0;
  constructor(private readonly script: string) {}
  async complete(r: CompleteRequest): Promise<number[]> {
    const ids = Array.from(tokenizer.encode(this.script).ids);
    const out: number[] = [];
    for (let i = 0; i < Math.min(r.maxTokens, ids.length); i++) {
      this.drawn++;
      out.push(ids[i]);
      if (r.onToken?.(ids[i]) === false) break;
    }
    return out;
  }
}

function handlerFor(script: string, filter: OutputFilterSettings) {
  const backend = new Scripted(script);
  return { backend, api: createApiHandler(backend, { outputFilter: () => filter }) };
}

const post = (body: object) =>
  new Request('http://lab.test/v1/completions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const ask = (extra: object = {}) => post({ model: 'scripted', prompt: 'x', max_tokens: 60, ...extra });

async function plain(api: ReturnType<typeof handlerFor>['api'], extra: object = {}) {
  const body = await (await api(ask(extra))).json();
  return body.choices[0] as { text: string; finish_reason: string };
}

/** The text chunks of a streamed completion and its finish reason. */
async function streamed(api: ReturnType<typeof handlerFor>['api']): Promise<{ chunks: string[]; finish: string }> {
  const text = await (await api(ask({ stream: true }))).text();
  const data = text.trim().split('\n\n').map((e) => e.slice('data: '.length));
  expect(data.at(-1)).toBe('[DONE]');
  const events = data.slice(0, -1).map((d) => JSON.parse(d));
  return {
    chunks: events.map((e) => e.choices[0].text as string).filter((t) => t !== ''),
    finish: events.at(-1).choices[0].finish_reason,
  };
}

const ON = (...blockedWords: string[]): OutputFilterSettings => ({ enabled: true, blockedWords });
const SCRIPT = 'the crew saw the whale and the harpoon flew';

describe('the output filter in the handler', () => {
  it('lets everything through when off (the default)', async () => {
    expect((await plain(handlerFor(SCRIPT, { enabled: false, blockedWords: ['whale'] }).api)).text).toBe(SCRIPT);
    expect((await plain(createApiHandler(new Scripted(SCRIPT)))).text).toBe(SCRIPT);
  });

  it('cuts the completion before the blocked word, stops generating, and says content_filter', async () => {
    const { api, backend } = handlerFor(SCRIPT, ON('WHALE'));
    const choice = await plain(api);
    expect(choice.text).toBe('the crew saw the ');
    expect(choice.finish_reason).toBe('content_filter');
    // The model drew up to the word's last letter and no further.
    expect(backend.drawn).toBe(SCRIPT.indexOf('whale') + 'whale'.length);
  });

  it('cuts at the first of several blocked words', async () => {
    const choice = await plain(handlerFor(SCRIPT, ON('harpoon', 'crew')).api);
    expect(choice.text).toBe('the ');
  });

  it('catches a word split across streamed chunks, and sends none of it', async () => {
    // One character per token: "whale" arrives in five pieces.
    const { chunks, finish } = await streamed(handlerFor(SCRIPT, ON('whale')).api);
    expect(chunks.join('')).toBe('the crew saw the ');
    expect(finish).toBe('content_filter');
    // The chunks came one by one (several of them), and none holds a piece of the word.
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c).not.toMatch(/wh|ha|al|le/);
    // The w of "crew" and "saw" was held back (it might have begun "whale") and went out once decided.
    expect(chunks.filter((c) => c.includes('w'))).toEqual(['w ', 'w ']);
  });

  it('releases held-back text that turned out not to be the word', async () => {
    const { chunks, finish } = await streamed(handlerFor('the wha', ON('whale')).api);
    expect(chunks.join('')).toBe('the wha');
    expect(finish).toBe('length');
  });

  it('filters chat replies too', async () => {
    const api = createApiHandler(new Scripted(' Aye, the whale.\nUser: more'), { outputFilter: () => ON('whale') });
    const res = await api(
      new Request('http://lab.test/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'scripted', messages: [{ role: 'user', content: 'Hi' }] }),
      }),
    );
    const body = await res.json();
    expect(body.choices[0].message.content).toBe('Aye, the ');
    expect(body.choices[0].finish_reason).toBe('content_filter');
  });
});

describe('why such filters are brittle', () => {
  it('is bypassed by a space, a look-alike letter, or a paraphrase', async () => {
    const filter = ON('whale');
    // A space inside the word.
    expect((await plain(handlerFor('the wh ale rose', filter).api)).finish_reason).toBe('length');
    // Cyrillic "а" (U+0430) in place of the Latin "a": the same glyph to a reader, another character to the filter.
    const homoglyph = 'the wh\u0430le rose';
    const choice = await plain(handlerFor(homoglyph, filter).api);
    expect(choice.text).toBe(homoglyph);
    expect(choice.finish_reason).toBe('length');
    // Another word for the same thing.
    expect((await plain(handlerFor('the leviathan rose', filter).api)).text).toBe('the leviathan rose');
  });

  it('over-blocks: a blocked word inside an innocent one is blocked too', async () => {
    const choice = await plain(handlerFor('a corset of whalebone', ON('whale')).api);
    expect(choice.text).toBe('a corset of ');
    expect(choice.finish_reason).toBe('content_filter');
  });
});

describe('BlocklistScanner', () => {
  it('holds back what might start a blocked word, and lets it go once decided', () => {
    const s = new BlocklistScanner(['whale']);
    expect(s.push('a wh')).toBe('a ');
    expect(s.push('at')).toBe('what');
    expect(s.push(' Wh')).toBe(' ');
    expect(s.push('ALE!')).toBe('');
    expect(s.blocked).toBe(true);
    expect(s.push('more')).toBe('');
    expect(s.flush()).toBe('');
  });

  it('gives back a held-back start when the text ends', () => {
    const s = new BlocklistScanner(['whale']);
    expect(s.push('the wha')).toBe('the ');
    expect(s.flush()).toBe('wha');
  });

  it('finds a word in a whole text', () => {
    expect(findBlocked('The Whale', ['shark', 'whale'])).toBe('whale');
    expect(findBlocked('The W hale', ['whale'])).toBeNull();
  });
});

describe('filter settings', () => {
  it('are cleaned up and checked', () => {
    expect(normalizeFilterSettings({ enabled: true, blockedWords: [' whale ', '', 'Whale', 'shark'] })).toEqual({
      enabled: true,
      blockedWords: ['whale', 'shark'],
    });
    expect(() => normalizeFilterSettings({ enabled: 1, blockedWords: [] })).toThrow(/enabled/);
    expect(() => normalizeFilterSettings({ enabled: true, blockedWords: 'whale' })).toThrow(/array/);
    expect(() => normalizeFilterSettings({ enabled: true, blockedWords: [3] })).toThrow(/string/);
    expect(() => normalizeFilterSettings({ enabled: true, blockedWords: ['x'.repeat(65)] })).toThrow(/64/);
    expect(() => normalizeFilterSettings(null)).toThrow(/object/);
  });

  it('come from a comma-separated list on the command line', () => {
    expect(parseBlockList('whale, harpoon,,  ')).toEqual(['whale', 'harpoon']);
  });
});
