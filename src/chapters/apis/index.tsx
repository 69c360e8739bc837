import { LIVE_MODEL_ID } from '../../api/port';
import { Sources } from '../outline';
import { RequestEditor } from './RequestEditor';
import './apis.css';

/** Chapter 6 — APIs: the lab's model behind a real OpenAI-style API, in the page and on the command line. */
export default function Apis() {
  return (
    <>
      <p className="lede">
        Most people meet a language model through an API: a program sends a request over HTTP, and the text comes back.
        This chapter puts the model you are training behind the same kind of API, in this very page, so you can send it
        real requests and watch what travels each way.
      </p>

      <h2>What an API is</h2>
      <p>
        An API (application programming interface) is a contract between two programs: which requests one may send, and
        what the other promises to answer. A web API writes that contract in HTTP [1]. A request names a <em>method</em>{' '}
        (GET to read, POST to ask for something to be done), a <em>path</em> (which resource), <em>headers</em> (facts
        about the request, such as <code>Content-Type: application/json</code>) and, for a POST, a <em>body</em>. The
        response has a <em>status</em> (200 for success, 4xx when the request was wrong, 5xx when the server failed),
        headers of its own, and a body.
      </p>
      <p>
        OpenAI’s API [2] became the shape many others copy, so that one client library can talk to many servers. This
        site implements its three oldest endpoints for your model, which is called <code>{LIVE_MODEL_ID}</code> here:
      </p>
      <ul>
        <li>
          <code>GET v1/models</code> lists the models (one: yours, with its context length and vocabulary size).
        </li>
        <li>
          <code>POST v1/completions</code> continues a <code>prompt</code>: the model simply writes on.
        </li>
        <li>
          <code>POST v1/chat/completions</code> answers a list of <code>messages</code>. A language model only ever
          continues text, so the conversation is first written out as text, one <code>User:</code> or{' '}
          <code>Assistant:</code> line per message, ending with <code>Assistant:</code>; the model’s continuation,
          up to where it starts the next <code>User:</code> line, is the reply. Until you fine-tune it on conversations
          (in the Training chapter) your model has never seen this format, and its replies read like Moby-Dick.
        </li>
      </ul>
      <p>
        Both generating endpoints take the sampling settings you met in the lab: <code>temperature</code>,{' '}
        <code>top_p</code>, <code>max_tokens</code>, <code>seed</code> (the same seed gives the same answer),{' '}
        <code>stop</code> (text that ends the answer) and <code>n</code> (several answers at once). A request that breaks
        the contract gets an error object, <code>{'{"error": {"message", "type", "param", "code"}}'}</code>, with the
        status that says whose fault it was: 400 for a malformed body or a field of the wrong type or range, 404 for an
        unknown path or model, 405 for a wrong method, 413 for a body over a megabyte. Fields the server does not know are
        ignored, because real clients send many.
      </p>

      <RequestEditor />

      <h2>Tokens and billing</h2>
      <p>
        Every answer ends with a <code>usage</code> object: <code>prompt_tokens</code>, <code>completion_tokens</code>{' '}
        and their sum. Commercial APIs bill by these counts, usually per million tokens, with input and output priced
        separately; in 2024, for example, OpenAI listed GPT-4o at $2.50 per million input tokens and $10 per million
        output tokens [3]. Their tokens are pieces of words from a byte-pair vocabulary, about four characters of
        English text each [4]. Ours are single characters, so the same sentence costs our model about four times as
        many tokens — and its window, 128 tokens for the shipped model, holds only 128 characters. A longer prompt is
        cut from the left (the answer’s <code>gpt_lab.prompt_cropped</code> says by how much), and a character the model
        never saw in training is replaced by a fallback token and counted in <code>gpt_lab.unknown_chars</code>.
      </p>
      <p>
        Why does output cost more than input? The prompt is read in one pass: every position is computed at once, in
        parallel, which suits a GPU. The answer is written one token at a time, each one a full pass of the model that
        must wait for the token before it. A large server keeps the attention keys and values of the text so far (a{' '}
        <em>KV cache</em>) so that each new token costs one position’s work; our small engine simply reruns the whole
        window for every token, which is plain to read and fast enough at this size.
      </p>

      <h2>Streaming</h2>
      <p>
        Because the answer is made one token at a time, waiting for all of it wastes the reader’s time. With{' '}
        <code>"stream": true</code> the server answers at once with <code>Content-Type: text/event-stream</code> and
        keeps the response open, sending each piece as it is made. This is the <em>server-sent events</em> format of the
        HTML standard [5]: plain text, one event per block, each line of a block a field such as{' '}
        <code>data: …</code>, and a blank line ending the block. OpenAI’s API puts one JSON chunk in each event (a{' '}
        <code>delta</code> of a few characters for chat) and ends the stream with <code>data: [DONE]</code> [2]. Try
        the streamed presets above: the text grows as the tokens arrive, and the timing line shows how long the first
        byte took compared with the whole answer. The gap between those two numbers is what streaming buys.
      </p>

      <h2>Rate limits</h2>
      <p>
        A model server has a fixed amount of hardware, so providers limit how much each customer may ask: requests per
        minute and tokens per minute, with a different allowance for each account [6]. A client over its limit gets{' '}
        <code>429 Too Many Requests</code> [7], often with a <code>Retry-After</code> header saying when to come back, and
        a well-behaved client waits longer after each refusal (exponential back-off). Here the limit is the single
        engine in your browser: it generates for one request at a time, the others wait in a queue, and a request that
        finds 16 already waiting is refused with a 429 at once. One answer may ask for at most 1024 tokens. While the
        model answers, the lab’s training pauses — a generation must see one fixed set of weights — and it resumes by
        itself afterwards.
      </p>

      <h2>Keys</h2>
      <p>
        A commercial API wants a key in every request, as a header:{' '}
        <code>Authorization: Bearer sk-…</code> [8]. The key says who is asking, and so whom to bill and whose limits
        apply; whoever holds it can spend its owner’s money. That is why keys belong on servers and never in a web
        page’s code or a public repository, where anyone can read them: a page that needs a commercial model asks its
        own server, which adds the key and forwards the request.
      </p>
      <p>
        This API needs no key, because nothing leaves your machine. When this page calls <code>fetch('v1/…')</code>, the
        request goes to the site’s Service Worker [9], a script the browser runs beside the site’s pages that may answer
        their requests itself. It cannot reach the model (the model lives in the engine, a worker of this page), so it
        passes the request to the page with a message channel; the page hands it to the engine, and the engine writes
        the answer back on the channel — the status and headers first, then the body as it is made. Nothing is sent
        over the network. <code>npm run serve</code>, below, listens on 127.0.0.1, an address only your own computer can
        reach; open it to a network with <code>--host</code> and anyone there can use your model, so you would want a
        key then.
      </p>
      <p>
        The Service Worker has one more job. The WebAssembly backend can use several threads only in a page that is{' '}
        <em>cross-origin isolated</em>, which two response headers (<code>Cross-Origin-Opener-Policy</code> and{' '}
        <code>Cross-Origin-Embedder-Policy</code>) turn on. Some static hosts cannot send headers, so the Service Worker
        adds them, and the site’s Content-Security-Policy, to the site’s own responses where they are missing. A page is
        isolated or not from the moment it loads, so on such a host the page reloads itself once, the first time the
        Service Worker takes over (never twice: a note in the tab’s session storage remembers it). The worker caches
        nothing and never touches requests to other sites.
      </p>

      <h2>Outside the browser</h2>
      <p>
        The same API code answers from Node on your computer. Export a checkpoint from the lab, then, in a copy of this
        project:
      </p>
      <pre className="api-code" tabIndex={0} role="region" aria-label="Serving a checkpoint with npm run serve">
        <code>{`npm run serve -- --checkpoint gpt-lab-step-N.safetensors --model gpt-lab --port 8080
curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\
  -d '{"model": "gpt-lab", "messages": [{"role": "user", "content": "Call me Ishmael."}], "max_tokens": 60}'`}</code>
      </pre>
      <p>
        Any OpenAI-compatible client works too: point its base URL at <code>http://127.0.0.1:8080/v1</code> and give it
        any key, since none is checked. <code>--block whale,harpoon</code> switches on a simple output filter, which
        the Safety chapter takes apart.
      </p>

      <h2>Things to try</h2>
      <ul>
        <li>
          Send the chat example twice with the same <code>"seed": 1</code>: the same reply. Set{' '}
          <code>"temperature": 0</code> and drop the seed: the model always picks its likeliest character, so the answer
          is the same every time too.
        </li>
        <li>
          Break the contract on purpose: <code>"max_tokens": 5000</code>, <code>"temperature": "hot"</code>, a missing
          bracket, the DELETE method. Read the status and the error object each time; <code>param</code> names the field
          at fault.
        </li>
        <li>
          Write a prompt longer than the context (128 characters for the shipped model) and compare{' '}
          <code>usage.prompt_tokens</code> with <code>gpt_lab.prompt_cropped</code>.
        </li>
        <li>
          Start training in the lab, then send a long streamed completion: the step counter stops while the answer
          streams and moves on when it ends.
        </li>
        <li>
          Paste the <code>fetch</code> code into the developer console, or open <code>v1/models</code> in a new tab of
          this site: the Service Worker answers a page you navigate to as well.
        </li>
        <li>
          Train a few hundred steps and ask the same question again with the same seed: the answer changes with the
          weights, while the model’s name stays the same — as it does when a provider updates a model behind a name.
        </li>
      </ul>

      <Sources>
        <li>[1] R. Fielding, M. Nottingham, J. Reschke (eds.), “HTTP Semantics”, RFC 9110, IETF, 2022 (methods, status codes, the Allow header).</li>
        <li>
          [2] OpenAI API reference: “Chat Completions”, “Completions” (legacy) and “Models”, including the streamed chunk
          objects and <code>data: [DONE]</code>; platform.openai.com/docs/api-reference.
        </li>
        <li>[3] OpenAI, “API pricing”, openai.com/api/pricing (GPT-4o prices as listed in the second half of 2024).</li>
        <li>[4] OpenAI Help Center, “What are tokens and how to count them?” (about four characters of English per token).</li>
        <li>[5] WHATWG, HTML Living Standard, section “Server-sent events” (the text/event-stream format).</li>
        <li>[6] OpenAI, “Rate limits” guide, platform.openai.com/docs/guides/rate-limits (requests and tokens per minute, back-off).</li>
        <li>[7] M. Nottingham, R. Fielding, “Additional HTTP Status Codes”, RFC 6585, IETF, 2012 (429 Too Many Requests).</li>
        <li>[8] M. Jones, D. Hardt, “The OAuth 2.0 Authorization Framework: Bearer Token Usage”, RFC 6750, IETF, 2012.</li>
        <li>[9] W3C, “Service Workers” (FetchEvent.respondWith(), Clients.claim()); WHATWG, HTML Living Standard, “Cross-origin opener policies” and “Cross-origin embedder policies”.</li>
      </Sources>
    </>
  );
}
