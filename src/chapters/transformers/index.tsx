import { OutlineNote, Sources } from '../outline';

/** Chapter 3 — Transformers (outline). */
export default function Transformers() {
  return (
    <>
      <OutlineNote />
      <p className="lede">
        This chapter opens up the model in the lab and follows a sentence through it, from characters to the probability
        of the next one.
      </p>
      <p>
        First, text becomes numbers. Our model reads characters: one token for each distinct character in its training
        text, 89 of them for <cite>Moby-Dick</cite>. GPT-2 instead uses byte-level byte-pair encoding, with a vocabulary
        of 50,257 tokens made by merging frequent byte sequences [1]. The chapter will tokenise the same sentence both
        ways, to show what each choice costs.
      </p>
      <p>
        Each token then selects a learned vector, its embedding, and a learned position vector is added to it. That
        vector, the <em>residual stream</em>, passes through the blocks, and each block adds its contribution to it. In a
        block, <em>self-attention</em> lets every position look back at the earlier ones: each position computes a query,
        a key and a value, the weights are <code>softmax(QKᵀ/√d)</code> over earlier positions only, and the output is
        the weighted sum of the values [2]. Several heads do this side by side, each on a slice of the width. The chapter
        will draw the live model’s attention weights for a sentence you type.
      </p>
      <p>
        The rest of the block is a small two-layer network applied to each position (four times wider inside, with a GELU
        activation [3]), and LayerNorm before each part, as in GPT-2 [1]. After the last block, the output layer reuses
        the token embedding matrix to score every token of the vocabulary [4], and a softmax turns the scores into the
        probabilities the lab samples from.
      </p>
      <Sources>
        <li>[1] A. Radford et al., “Language Models are Unsupervised Multitask Learners” (GPT-2), OpenAI, 2019.</li>
        <li>[2] A. Vaswani et al., “Attention Is All You Need”, NeurIPS 2017.</li>
        <li>[3] D. Hendrycks, K. Gimpel, “Gaussian Error Linear Units (GELUs)”, 2016.</li>
        <li>[4] O. Press, L. Wolf, “Using the Output Embedding to Improve Language Models”, EACL 2017.</li>
      </Sources>
    </>
  );
}
