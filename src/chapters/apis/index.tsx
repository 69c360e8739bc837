import { OutlineNote, Sources } from '../outline';

/** Chapter 6 — APIs (outline). */
export default function Apis() {
  return (
    <>
      <OutlineNote />
      <p className="lede">
        Most people meet a language model through an API: a request goes in, text comes out. This chapter puts our model
        behind the same kind of API and looks at what happens between the two.
      </p>
      <p>
        A request is a small JSON document: the conversation so far, the model’s name and the sampling settings; the
        answer carries the generated text and how many tokens were used. OpenAI’s chat completions format [1] has become a
        common shape that many other servers imitate. The chapter will serve our model in that shape twice: inside the
        page, where a Service Worker answers requests to <code>/v1/</code> without any server [2], and from your own
        computer with <code>npm run serve</code>.
      </p>
      <p>
        Generation is a loop: run the model, pick one token from its probabilities, append it, run again. How the token is
        picked matters. Temperature divides the scores before the softmax, so below 1 the likely tokens become likelier
        and above 1 the choice flattens; top-k keeps only the k likeliest tokens, and top-p (nucleus sampling) keeps the
        smallest set whose probabilities add up to p [3]. The lab’s temperature slider is the first of these, and the
        chapter will add the others.
      </p>
      <p>
        Because each token takes a full pass of the model, answers are sent as they are made, with server-sent events [4],
        so the first words arrive long before the last. The chapter will show a stream token by token, the limits that
        come from the context length (128 characters for our model), and the error objects a client receives when a
        request is wrong.
      </p>
      <Sources>
        <li>[1] OpenAI API reference, “Chat Completions”.</li>
        <li>[2] W3C, “Service Workers” specification.</li>
        <li>[3] A. Holtzman et al., “The Curious Case of Neural Text Degeneration”, ICLR 2020.</li>
        <li>[4] WHATWG HTML Living Standard, “Server-sent events”.</li>
      </Sources>
    </>
  );
}
