import { useEffect } from 'react';
import { Link } from 'wouter';
import { parameterCount, resolveHyperparameters } from '../../gpt/config';
import { CHAPTERS } from '../chapters';
import { MOBY_DICK_VOCABULARY } from '../runUrl';
import { useLab } from '../store';

const BASE = { ...resolveHyperparameters('base'), vocabSize: MOBY_DICK_VOCABULARY };
const BASE_MILLIONS = (parameterCount(BASE) / 1e6).toFixed(2);

export function Home() {
  const setDockOpen = useLab((s) => s.setDockOpen);
  useEffect(() => {
    document.title = 'GPT Lab — learn how GPT models are made by training one';
  }, []);

  return (
    <div className="home prose">
      <h1 tabIndex={-1}>GPT Lab</h1>
      <p className="lede">
        Learn how GPT-style language models are made by making one. A small GPT — the architecture of GPT-2, scaled down —
        lives in this page: you train it, look inside it, serve it and steer it while you read.
      </p>

      <h2>A real model, on your machine</h2>
      <p>
        The lab on every page holds one model: {BASE.layers} transformer blocks, {BASE.heads} attention heads, a width of{' '}
        {BASE.width} and a context of {BASE.contextLength} characters, about {BASE_MILLIONS} million parameters. It starts
        from a checkpoint already trained on <cite>Moby-Dick</cite>, so it writes something like English from the first
        second. Press <strong>Train</strong> and it keeps learning, one step at a time, on your own hardware: on the GPU
        through WebGPU or WebGL where there is one, on WebAssembly or plain JavaScript where there is not. The lab measures
        each and runs on the fastest, and tells you which and why.
      </p>
      <p>
        Nothing runs on a server. Training, your own text and your checkpoints stay in this browser; a reload picks up
        where you left off.
      </p>
      <p>
        <button type="button" className="primary" onClick={() => setDockOpen(true)}>
          Open the lab
        </button>
      </p>

      <h2>The chapters</h2>
      <ol className="chapter-list">
        {CHAPTERS.map((c) => (
          <li key={c.slug}>
            <Link href={`/${c.slug}`}>{c.title}</Link>
            <span className="chapter-summary"> — {c.summary}</span>
          </li>
        ))}
      </ol>
      <p className="muted">
        The chapters are being written. For now each one is an outline of what it will teach; the lab already works on
        every page.
      </p>

      <h2>How it is built</h2>
      <p>
        The model is a decoder-only transformer written with TensorFlow.js, with the same maths and the same parameter
        names as the well-known PyTorch GPTs, so a checkpoint exported here loads in PyTorch as it is. It runs in a Web
        Worker, apart from the page, so reading and scrolling stay smooth while it trains.
      </p>
    </div>
  );
}
