import { OutlineNote, Sources } from '../outline';

/** Chapter 7 — Safety (outline). */
export default function Safety() {
  return (
    <>
      <OutlineNote />
      <p className="lede">
        A model learns what is in its data, remembers more of it than you might expect, and can be steered only so far.
        This chapter measures all three on the model you trained, and is honest about what a model this small can show.
      </p>
      <p>
        <strong>Bias.</strong> A model reproduces the associations of its text. <cite>Moby-Dick</cite> was published in
        1851 and carries its century’s assumptions; a model trained on it will complete sentences accordingly. Word
        embeddings trained on ordinary web text were shown to encode the same human biases that psychology tests measure
        [1]. The chapter will compare the probabilities our model gives to completions that differ in a single word.
      </p>
      <p>
        <strong>Memorisation.</strong> Language models can repeat their training text word for word, and researchers have
        extracted verbatim training data from GPT-2 [2]. Memorisation grows with model size, with how often a passage is
        repeated in the data, and with the length of the prompt [3]. The chapter will prompt your model with the start of
        passages it trained on and passages it never saw, count exact continuations, and repeat the test across model
        sizes.
      </p>
      <p>
        <strong>Alignment.</strong> Fine-tuning and preference tuning change what a model tends to say [4]; they do not
        remove what it learned, and a tuned model can still be led back to behaviour its tuning discouraged. With under a
        million parameters our model cannot stand in for a large system: the chapter uses it to show the mechanisms, and
        points to the evidence from large models for everything else.
      </p>
      <Sources>
        <li>
          [1] A. Caliskan, J. J. Bryson, A. Narayanan, “Semantics derived automatically from language corpora contain
          human-like biases”, Science 356, 2017.
        </li>
        <li>[2] N. Carlini et al., “Extracting Training Data from Large Language Models”, USENIX Security 2021.</li>
        <li>[3] N. Carlini et al., “Quantifying Memorization Across Neural Language Models”, ICLR 2023.</li>
        <li>[4] L. Ouyang et al., “Training language models to follow instructions with human feedback”, NeurIPS 2022.</li>
      </Sources>
    </>
  );
}
