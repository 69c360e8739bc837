/**
 * `npm run serve`'s server, in this process on a free port, spoken to by the official `openai`
 * client over real HTTP; and the script itself refusing a bad checkpoint.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../../src/engine/checkpoint';
import type { ModelConfig } from '../../src/gpt/config';
import { GPT, paramsToArrays } from '../../src/gpt/model';
import { CharTokenizer } from '../../src/gpt/tokenizer';
import { startServer, type RunningServer } from '../../scripts/serve';

const tokenizer = CharTokenizer.fromText("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:'\n");
const CONFIG: ModelConfig = { vocabSize: tokenizer.size, contextLength: 16, layers: 1, heads: 2, width: 16, dropout: 0 };

let dir: string;
let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-serve-'));
  const model = GPT.create(CONFIG, 3);
  const bytes = writeCheckpoint({ config: CONFIG, vocabulary: [...tokenizer.vocabulary], step: 0, weights: await paramsToArrays(model.params) });
  model.dispose();
  writeFileSync(join(dir, 'tiny.safetensors'), bytes);
  server = await startServer({ checkpointBytes: readFileSync(join(dir, 'tiny.safetensors')), port: 0, host: '127.0.0.1', backend: 'cpu', modelId: 'tiny' });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the openai client against npm run serve', () => {
  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    expect((await client.models.retrieve('tiny')).id).toBe('tiny');
  });

  it('gets a chat completion', async () => {
    const r = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Call me Ishmael.' }],
      max_tokens: 8,
      seed: 4,
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0].message.role).toBe('assistant');
    expect(typeof r.choices[0].message.content).toBe('string');
    expect(['stop', 'length']).toContain(r.choices[0].finish_reason);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it('streams a chat completion, chunk by chunk, to the same text', async () => {
    const body = { model: 'tiny', messages: [{ role: 'user' as const, content: 'Call me Ishmael.' }], max_tokens: 8, seed: 4 };
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    const plain = await client.chat.completions.create(body);
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(plain.choices[0].message.content);
    expect(finish).toBe(plain.choices[0].finish_reason);
    expect(usage).toEqual(plain.usage);
  });

  it('streams as tokens are drawn, and stops drawing when the client goes away', async () => {
    const drawn: number[] = [];
    const complete = server.model.complete.bind(server.model);
    server.model.complete = async (r) => {
      const ids = await complete(r);
      drawn.push(ids.length);
      return ids;
    };
    try {
      const stream = await client.completions.create({ model: 'tiny', prompt: 'Call me', max_tokens: 4000, stream: true });
      for await (const chunk of stream) {
        expect(chunk.choices[0].text).toHaveLength(1);
        break; // the client closes the connection after the first token
      }
      const after = await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2 });
      expect(after.usage?.completion_tokens).toBe(2);
      expect(drawn[0]).toBeLessThan(4000);
    } finally {
      server.model.complete = complete;
    }
  });

  it('gets a text completion', async () => {
    const r = await client.completions.create({ model: 'tiny', prompt: 'Call me', max_tokens: 5, temperature: 0 });
    expect(r.choices[0].text).toHaveLength(5);
    expect(r.usage).toEqual({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
  });

  it('raises the API errors as the client’s typed errors', async () => {
    const bad = client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], temperature: 3 });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(bad).rejects.toMatchObject({ status: 400, param: 'temperature' });
    const missing = client.completions.create({ model: 'gpt-4o', prompt: 'x' });
    await expect(missing).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('answers a body over 1 MB with 413 and sends the security headers', async () => {
    const r = await rawPost(server.port, '/v1/completions', JSON.stringify({ model: 'tiny', prompt: 'a'.repeat(1_100_000) }));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe('request_too_large');
    expect(r.headers['content-security-policy']).toBe("default-src 'none'");
    // Chunked, with no Content-Length: the bytes read are counted.
    const chunked = await rawPost(server.port, '/v1/completions', JSON.stringify({ model: 'tiny', prompt: 'a'.repeat(1_100_000) }), true);
    expect(chunked.status).toBe(413);
    const ok = await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 1 });
    expect(ok.choices).toHaveLength(1);
  });
});

describe('npm run serve with --block', () => {
  it('cuts a completion before a blocked word, and the client sees content_filter', async () => {
    const free = await client.completions.create({ model: 'tiny', prompt: 'Call me', max_tokens: 12, temperature: 0 });
    const text = free.choices[0].text;
    // Block two letters the model writes greedily (from the fourth character on, no space in them).
    let from = 3;
    while (from < text.length - 2 && text.slice(from, from + 2).trim().length !== 2) from++;
    const word = text.slice(from, from + 2);
    const filtered = await startServer({
      checkpointBytes: readFileSync(join(dir, 'tiny.safetensors')),
      port: 0,
      backend: 'cpu',
      modelId: 'tiny',
      blockedWords: [word],
    });
    try {
      const c = new OpenAI({ baseURL: `${filtered.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const r = await c.completions.create({ model: 'tiny', prompt: 'Call me', max_tokens: 12, temperature: 0 });
      expect(r.choices[0].text).toBe(text.slice(0, text.toLowerCase().indexOf(word.toLowerCase())));
      expect(r.choices[0].finish_reason).toBe('content_filter');
    } finally {
      await filtered.close();
    }
  });
});

describe('npm run serve on a bad checkpoint', () => {
  it('ends with one line and a non-zero exit', () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'this is not a checkpoint at all');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/serve.ts', '--checkpoint', bad, '--backend', 'cpu', '--port', '0'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^CheckpointError: .*bad\.safetensors is not a usable checkpoint/);
  });
});

/** A POST with node:http, so the body goes out as plain bytes with its Content-Length. */
function rawPost(port: number, path: string, body: string, chunked = false): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const length = chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/json', ...length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (chunked) {
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.slice(at, at + 64 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}
