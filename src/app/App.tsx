/** The placeholder home page: the guide's chapters, until the app shell and the lab arrive. */
const CHAPTERS = [
  ['Languages', 'Python on top, C++ and GPU kernels underneath: where the time goes.'],
  ['Frameworks', 'PyTorch, TensorFlow and autograd: how gradients are computed for you.'],
  ['Transformers', 'Tokens, embeddings, self-attention and the block, on a live model.'],
  ['Training', 'Pre-training, fine-tuning and preference tuning, in your browser.'],
  ['Infrastructure', 'GPUs, TPUs, memory and distributed training.'],
  ['APIs', 'Serving a model: requests, tokens, streaming.'],
  ['Safety', 'Bias, memorisation and alignment, measured on your model.'],
] as const;

export function App() {
  return (
    <main className="page">
      <h1>GPT Lab</h1>
      <p className="lede">
        Learn how GPT-style models are made by making one: a small GPT, written with TensorFlow.js, trains on your own
        machine while you read.
      </p>
      <ol className="chapters">
        {CHAPTERS.map(([title, summary]) => (
          <li key={title}>
            <strong>{title}</strong> — {summary}
          </li>
        ))}
      </ol>
      <p className="note">
        The engine is in place and trains from the command line (<code>npm run train</code>); the live lab and the
        chapters are being built.
      </p>
    </main>
  );
}
