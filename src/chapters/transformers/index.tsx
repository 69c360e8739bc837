import { Sources } from '../outline';
import { Attention } from './attention/Attention';
import { Block } from './Block';
import { Embeddings } from './Embeddings';
import { NextToken } from './NextToken';
import { Tokens } from './Tokens';
import './transformers.css';

/**
 * Chapter 3 — Transformers: the live model in the lab, opened up. Every number on this page comes
 * from the reader's own model through the engine worker (api.inspect.*), computed when they ask.
 */
export default function Transformers() {
  return (
    <>
      <p className="lede">
        This chapter opens up the model in the lab and follows a piece of text through it: from characters to numbers,
        through attention and the blocks, to the probability of the next character. Every figure below is computed on
        request from the model running in your browser, at whatever step of training it has reached.
      </p>
      <p>
        The model is a GPT in the sense of GPT-2 [2]: a stack of identical <em>blocks</em>, each made of causal
        self-attention and a small feed-forward network, reading a window of tokens and producing, at every position, a
        score for every possible next token. If you train it in the lab and come back, the pictures change; if you reset
        it to random weights, most of the structure here disappears. That contrast is the point: nothing below is drawn
        by hand.
      </p>

      <h2 id="tokens">Tokens</h2>
      <p>
        A neural network reads numbers, so text first becomes a sequence of integers, its <em>tokens</em>. Our model
        uses the simplest scheme that works: one token per distinct character of its training text, numbered in
        code-point order. For <cite>Moby-Dick</cite> that is 89 characters: letters, digits, punctuation, the space and
        the new line, the em dash, and a handful of Greek and Hebrew letters from the book’s opening list of words for
        “whale”. A character the
        book never uses has no token; our tokenizer maps it to a fallback token (the space) and counts it, so you can
        see when the model is reading something it cannot represent.
      </p>
      <p>
        Real models use <em>subword</em> tokens. Byte-pair encoding [3] starts from single symbols and repeatedly merges
        the most frequent adjacent pair into a new symbol, an idea borrowed from data compression [13]; after tens of
        thousands of merges, common words are single tokens and rare ones are spelled out in a few pieces. GPT-2
        applies it to the bytes of UTF-8 rather than to characters, so any string at all can be encoded and there is no
        unknown token; it keeps merges from crossing between letters, digits and punctuation, and lets a word carry its
        leading space. Its vocabulary has 50,257 entries: 256 bytes, 50,000 merges and one end-of-text marker [2].
      </p>
      <Tokens />
      <p>
        The trade is between the length of the sequence and the size of the vocabulary. In ordinary English a GPT-2
        token covers roughly four characters (the box above measures it for your text), so the same context window holds about four times as much text, and
        attention, whose cost grows with the square of the sequence length, does far less work per word. The price is
        paid elsewhere. The embedding table grows with the vocabulary: in the smallest GPT-2, its 50,257 × 768 entries
        are 38.6 million of its 124 million parameters (the paper rounds the model to 117 million) [2]. Each token’s spelling becomes invisible to the
        model: in GPT-2’s vocabulary <code>␣whale</code>, <code>␣whales</code> and <code>␣Whale</code> are three
        unrelated ids (22206, 24635 and 44772), and <code>whale</code> without its leading space is two tokens,{' '}
        <code>wh</code> and <code>ale</code>. The model must learn from context that these are one word, and it cannot
        simply count the letters in it.
        Numbers split into irregular chunks. And a tokenizer trained mostly on English text cuts other languages into
        many more tokens for the same content, which makes them slower and more expensive to process [12]. A character
        model avoids all of this at the price of long sequences, which is affordable at our scale and not at GPT-2’s.
      </p>

      <h2 id="embeddings">Embeddings</h2>
      <p>
        The first layer of the model is a lookup table, <code>wte</code>, with one learned row of <em>C</em> numbers (the
        width) per token. A second table, <code>wpe</code>, holds one learned row per position of the context, and the
        two rows are added: the sum is the first state of what is called the <em>residual stream</em>, the vector at
        each position that every later layer reads from and adds to [10]. The original Transformer used fixed sinusoids
        for positions [1]; GPT-2, and our model, learn them like any other weight [2].
      </p>
      <p>
        The token table is also the last layer: the output head multiplies the final state by the transpose of{' '}
        <code>wte</code>, so a character’s logit is the dot product of the model’s final vector with that character’s
        embedding [9]. A row of <code>wte</code> is therefore pulled two ways during training: it must be a useful input
        and a useful target. Characters that behave alike, that follow and precede the same things, end up with similar
        rows. With <em>C</em> numbers per row (128 in the shipped model) there is no way to look at them directly, so the
        figure projects them on the two directions along which the rows vary most (principal component analysis). The
        projection keeps only part of the picture, and it says how much; the table of nearest neighbours is computed in
        all <em>C</em> dimensions and is the more faithful of the two.
      </p>
      <Embeddings />
      <p>
        On a trained model, look for groups: vowels near vowels, capitals near capitals, digits together. On a freshly
        reset model the rows are random numbers of size 0.02 and
        the picture is noise. The position similarity map is read the same way: each cell compares two positions’
        learned vectors. Where the model has learned to use position, neighbouring positions tend to get similar
        vectors, which shows as a band along the diagonal.
      </p>

      <h2 id="attention">Self-attention, step by step</h2>
      <p>
        Attention is the only place where positions exchange information; everything else in a block works on each
        position separately. At each position the model computes three vectors from the residual stream: a{' '}
        <em>query</em>, a <em>key</em> and a <em>value</em>. The query of position <em>i</em> is compared with the key of
        every position <em>j</em> by a dot product, the comparisons are turned into weights by a softmax, and the output
        at <em>i</em> is the weighted average of the values [1]. In one line:{' '}
        <code>out = softmax(q·kᵀ / √d + mask) · v</code>. The division by √<em>d</em>, the square root of the head size,
        keeps the scores at a scale where the softmax still has useful gradients: the dot product of two vectors of{' '}
        <em>d</em> independent unit-variance numbers has variance <em>d</em> [1].
      </p>
      <p>
        A language model must not see the future it is trained to predict, so position <em>i</em> may only look at
        positions 0 to <em>i</em>. The <em>causal mask</em> enforces this by adding −∞ (−10⁹ in our code) to the scores
        above the diagonal before the softmax, which makes their weights exactly zero. Because of the mask, one pass over
        a window of <em>T</em> tokens trains <em>T</em> predictions at once, each seeing only its own past.
      </p>
      <p>
        The model runs several <em>heads</em> side by side, each with its own queries, keys and values in a slice of the
        width, so that one head can track, say, the previous character while another looks for the start of the word.
        Type a prompt, pick a layer and a head, and follow the real numbers:
      </p>
      <Attention />
      <p>
        A row that puts all its weight on the diagonal is a head that looks at the current character; weight on the cell
        just left of the diagonal is a head that looks one step back; a column that lights up in every row is a position
        that many others consult, often the very first one. A freshly initialised model has nearly equal
        scores everywhere, so each row is close to uniform over the positions it may see: row <em>i</em> holds about
        1/(<em>i</em>+1) in each cell.
      </p>

      <h2 id="block">A block</h2>
      <p>
        A block is two sub-layers, each wrapped the same way: normalise, compute, add back. LayerNorm [6] rescales each
        position’s vector to mean 0 and variance 1 and applies a learned scale and shift; the sub-layer (attention, then
        the MLP) computes from that; and its result is <em>added</em> to the residual stream rather than replacing it
        [7]. GPT-2 put the LayerNorm at the input of each sub-layer instead of after the addition, as the original
        Transformer did, and added one more after the last block [2]; this “pre-norm” arrangement keeps an unobstructed
        path from the output back to the embeddings and makes deep stacks easier to train [14].
      </p>
      <p>
        The MLP is two linear layers with a GELU [8] between them, four times wider inside, applied to each position on
        its own. Counting weights and biases, a block of width <em>C</em> has 12<em>C</em>² + 13<em>C</em> parameters:
        3<em>C</em>² for the queries, keys and values, <em>C</em>² for attention’s output projection, 8<em>C</em>² for
        the MLP, and the rest in biases and LayerNorms. Two thirds of a block’s weights are in its MLP. The diagram
        below uses the live configuration, and colours each part by the size of its output for your prompt.
      </p>
      <Block />
      <p>
        Compare the sizes. The residual stream starts small, since the embeddings were initialised with numbers of size
        0.02, and the first block adds several times as much to it. After that, what a block writes may enlarge the
        stream or cancel part of it: nothing forces the additions to point the same way, and in the shipped model the
        stream stays about the same size from the second block on. Each LayerNorm’s output, by contrast, keeps a scale
        set by its learned weights whatever comes in, so every sub-layer, and the output head after the final LayerNorm,
        works on inputs of a predictable size.
      </p>

      <h2 id="next-token">Next-token prediction</h2>
      <p>
        At the last position, the final vector is scored against every token’s embedding; the scores are the{' '}
        <em>logits</em>, and a softmax turns them into probabilities. Training lowers the cross-entropy, the average of
        −ln <em>p</em> of the character that actually came next; a model that knew nothing would give each of 89
        characters 1/89 and score ln 89 ≈ 4.49. Generating text means drawing a character from this distribution,
        appending it and repeating, and how the drawing is done matters as much as the model.
      </p>
      <p>
        <strong>Temperature</strong> divides the logits before the softmax: below 1 it sharpens the distribution towards
        the likeliest characters, above 1 it flattens it, and at 0 it becomes greedy decoding, always the top character.{' '}
        <strong>Top-k</strong> keeps only the <em>k</em> likeliest characters and renormalises [5].{' '}
        <strong>Top-p</strong>, or nucleus sampling, keeps the smallest set of likeliest characters whose probabilities
        add up to at least <em>p</em> [4]: when the model is sure, that may be one character, and when it is unsure,
        dozens. Both cut off the long tail of unlikely choices, which, drawn often enough, derails a text. Always taking
        the likeliest token is no cure: likelihood-maximising decoding tends to fall into bland, repeating loops [4].
        Here the settings apply in that order (temperature, then top-k, then top-p), the same function the sampler uses.
      </p>
      <NextToken />

      <h2 id="things-to-try">Things to try</h2>
      <ul>
        <li>
          Type curly quotes (“ ”) or an emoji in the token box. Our model maps them to the fallback token; GPT-2 splits
          the emoji into several byte tokens, some of which are not characters at all.
        </li>
        <li>
          In the embeddings, pick a vowel and read its neighbours; then pick a capital. Reset the model from scratch in
          the lab, look again, and then train for a few hundred steps and watch the groups form.
        </li>
        <li>
          Give attention a prompt that repeats itself, such as <code>the whale, the whale, the wh</code>, and look through
          the heads of the later layers for one whose last rows point at the character that followed the earlier
          occurrence. Heads that copy what came next last time are called induction heads [11].
        </li>
        <li>
          Set the temperature to 0 and sample: greedy text often ends in a loop. Then try temperature 1.5 with and
          without top-p 0.9, and compare how much of the text stays readable.
        </li>
        <li>
          In the block diagram, step through the blocks and follow the residual stream’s RMS, first for the shipped
          model and then for one reset from scratch, where each block adds a small random vector and the stream grows a
          little with every block.
        </li>
      </ul>

      <Sources>
        <li>[1] A. Vaswani et al., “Attention Is All You Need”, NeurIPS 2017.</li>
        <li>[2] A. Radford et al., “Language Models are Unsupervised Multitask Learners” (GPT-2), OpenAI, 2019.</li>
        <li>[3] R. Sennrich, B. Haddow, A. Birch, “Neural Machine Translation of Rare Words with Subword Units”, ACL 2016.</li>
        <li>[4] A. Holtzman et al., “The Curious Case of Neural Text Degeneration”, ICLR 2020.</li>
        <li>[5] A. Fan, M. Lewis, Y. Dauphin, “Hierarchical Neural Story Generation”, ACL 2018.</li>
        <li>[6] J. L. Ba, J. R. Kiros, G. E. Hinton, “Layer Normalization”, 2016.</li>
        <li>[7] K. He et al., “Deep Residual Learning for Image Recognition”, CVPR 2016.</li>
        <li>[8] D. Hendrycks, K. Gimpel, “Gaussian Error Linear Units (GELUs)”, 2016.</li>
        <li>[9] O. Press, L. Wolf, “Using the Output Embedding to Improve Language Models”, EACL 2017.</li>
        <li>[10] N. Elhage et al., “A Mathematical Framework for Transformer Circuits”, Anthropic, 2021.</li>
        <li>[11] C. Olsson et al., “In-context Learning and Induction Heads”, Anthropic, 2022.</li>
        <li>[12] A. Petrov et al., “Language Model Tokenizers Introduce Unfairness Between Languages”, NeurIPS 2023.</li>
        <li>[13] P. Gage, “A New Algorithm for Data Compression”, The C Users Journal, 1994.</li>
        <li>[14] R. Xiong et al., “On Layer Normalization in the Transformer Architecture”, ICML 2020.</li>
        <li>
          GPT-2’s tokenizer on this page: the <code>gpt-tokenizer</code> package (its <code>r50k_base</code> encoding, the
          one GPT-2 uses), bundled with the site.
        </li>
      </Sources>
    </>
  );
}
