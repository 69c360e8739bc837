import { OutlineNote, Sources } from '../outline';

/** Chapter 2 — Frameworks (outline). */
export default function Frameworks() {
  return (
    <>
      <OutlineNote />
      <p className="lede">
        A deep-learning framework gives you three things: tensors that live on a device, gradients computed for you, and
        building blocks such as layers and optimisers. This chapter is about the second, the one that makes the others
        worth having.
      </p>
      <p>
        Training needs the gradient of the loss with respect to every parameter. Frameworks compute it by{' '}
        <em>reverse-mode automatic differentiation</em>: they record the operations of the forward pass, then walk the
        record backwards applying the chain rule. One backward pass costs a small constant multiple of the forward pass,
        however many parameters there are [1]. The chapter will build this idea in miniature, a scalar autograd engine in
        the spirit of micrograd [2], then show the same mechanism at work in TensorFlow.js on our model.
      </p>
      <p>
        Frameworks differ in when they run your code. PyTorch runs each operation as Python reaches it (“define by run”)
        [3]; TensorFlow 2 runs eagerly too and can trace a function into a graph with <code>tf.function</code> [4]; JAX
        traces functions and compiles them with XLA [5]. TensorFlow.js runs eagerly, and because JavaScript’s garbage
        collector cannot see GPU memory, tensors are freed explicitly, with <code>tf.tidy</code> and{' '}
        <code>dispose</code> [6]. The chapter will compare the same small computation written in each style.
      </p>
      <p>
        A gradient that is wrong rarely crashes: the model just learns badly. So this project checks its gradients against
        finite differences, and its whole forward pass against a reference written in PyTorch. The chapter will run such a
        check live, and show how a single flipped sign makes it fail.
      </p>
      <Sources>
        <li>
          [1] A. G. Baydin, B. A. Pearlmutter, A. A. Radul, J. M. Siskind, “Automatic Differentiation in Machine Learning:
          a Survey”, JMLR 18, 2018.
        </li>
        <li>[2] A. Karpathy, micrograd (a tiny scalar autograd engine), GitHub.</li>
        <li>[3] A. Paszke et al., “PyTorch: An Imperative Style, High-Performance Deep Learning Library”, NeurIPS 2019.</li>
        <li>[4] TensorFlow guide, “Introduction to graphs and tf.function”.</li>
        <li>[5] JAX documentation, “Just-in-time compilation”.</li>
        <li>[6] TensorFlow.js guide, “Tensors and operations”, section on memory management.</li>
      </Sources>
    </>
  );
}
