import { Sources } from '../outline';
import { AttentionHeadGrad } from './AttentionHeadGrad';
import { ExpressionGraph } from './ExpressionGraph';
import { FrameworkCode } from './FrameworkCode';
import { KernelProfile } from './KernelProfile';
import '../languages/measure-widgets.css';
import './frameworks.css';

/** Chapter 2 — Frameworks: automatic differentiation, the same layer in four frameworks, a live kernel profile. */
export default function Frameworks() {
  return (
    <>
      <p className="lede">
        A deep-learning framework gives you tensors that live on a device, gradients computed for you, optimizers and layers
        to build with, and — increasingly — a compiler that turns your program into fewer, faster kernels. This chapter takes
        them apart on the model in the lab, starting with the one that makes training possible at all: automatic
        differentiation.
      </p>

      <h2>Gradients without writing them</h2>
      <p>
        Training moves every parameter a little against the gradient of the loss. GPT Lab’s small model has tens of
        thousands to millions of parameters, large models hundreds of billions, and nobody writes those derivatives by hand.
        There are three ways a computer could find them. <em>Symbolic differentiation</em> manipulates formulas, as a computer
        algebra system does; applied to a whole network the expressions grow enormous. <em>Finite differences</em> nudge one
        parameter and watch the loss move, which needs two evaluations of the network per parameter — millions of forward
        passes for one gradient. <em>Automatic differentiation</em> (AD) does something else: it applies the chain rule to the
        actual sequence of elementary operations the program ran, with their actual values [1, 2].
      </p>
      <p>
        AD comes in two directions. <em>Forward mode</em> carries derivatives along with values, from inputs to output, and
        gives the derivative with respect to one input per pass. <em>Reverse mode</em> first runs the program forward,
        recording each operation and the values it needs on a <em>tape</em> (also called a Wengert list), then walks the
        tape backwards from the output, passing each node the derivative of the output with respect to that node — its{' '}
        <em>adjoint</em>. When one node feeds several others, the adjoints arriving along its outgoing edges add up. One
        backward pass gives the derivative of a single scalar (the loss) with respect to every input at once, for a small
        constant multiple of the cost of the forward pass — the “cheap gradient principle” [1]. Backpropagation, as neural
        network people call it, is reverse-mode AD [3]. The price is memory: the tape keeps the intermediate values
        (activations) until the backward pass has used them, which is why activations, not weights, fill most of a GPU during
        training.
      </p>

      <h3>Watch it on a small expression</h3>
      <p>
        Below is f(a, b, c) = tanh(a·b + c)·a, cut into one operation per node. Set a, b and c: each node shows its value and
        its adjoint ∂f/∂node. The adjoints come from the lab’s engine, where TensorFlow.js records the operations and runs the
        backward pass (<code>tf.grads</code> for a, b and c in one pass; <code>tf.grad</code> of f as a function of each inner
        node). This page, independently, computes central finite differences, (f(x + h) − f(x − h)) / 2h with h = 10⁻⁵ in
        64-bit floats, and the table shows how far apart the two are.
      </p>
      <p>
        Follow the chain rule backwards from f = w·a: ∂f/∂w = a, then ∂f/∂v = ∂f/∂w · (1 − w²) because tanh′ = 1 − tanh²,
        ∂f/∂u = ∂f/∂v, ∂f/∂c = ∂f/∂v and ∂f/∂b = ∂f/∂u · a. Input a is read twice — by u = a·b and by f = w·a — so its adjoint
        is the sum of both paths: ∂f/∂a = ∂f/∂u · b + w. A framework that forgot to add would get a wrong but plausible
        number, and the relative error column would show it.
      </p>

      <ExpressionGraph />

      <p>
        Expect relative errors around 10⁻⁷ to 10⁻⁶: tfjs computes in 32-bit floats, whose precision is about 6·10⁻⁸, while
        the finite difference, computed in 64-bit floats, is accurate to about 10⁻¹⁰ here. When a and b are large, tanh
        saturates, (1 − w²) rounds to almost nothing in float32, and the small adjoints lose their relative accuracy even
        though both methods are right. Gradient checks in real projects (including this project’s own tests of the GPT) use
        exactly this comparison, with tolerances chosen for the precision at hand.
      </p>

      <h3>Through one attention head</h3>
      <p>
        The same machinery works on matrices. In an attention head the scores Q·Kᵀ/√d pass through a softmax and weight the
        values V [4]. The backward pass needs the derivative of each of these: a matrix product’s gradient is two more matrix
        products (for C = A·B, ∂L/∂A = ∂L/∂C·Bᵀ and ∂L/∂B = Aᵀ·∂L/∂C), and the softmax’s is its output times the incoming
        gradient minus its weighted mean. With the causal mask on, position 0 can only attend to itself, so its attention row
        is [1, 0, 0, 0] whatever Q says: a softmax over one entry has zero derivative, and the first row of ∂L/∂Q comes out as
        zeros in both columns.
      </p>

      <AttentionHeadGrad />

      <h2>One layer, four frameworks</h2>
      <p>
        Frameworks differ less in what they compute than in <em>when</em> your code runs and who owns the state. PyTorch runs
        each operation as Python reaches it, recording the tape as it goes (“define-by-run”); a model is a Python object
        holding its parameters, and ordinary Python control flow just works [5]. TensorFlow began with the opposite design —
        build a dataflow graph first, then execute it, possibly across many machines [6] — and in version 2 became eager by
        default, keeping graphs for functions decorated with <code>tf.function</code>. JAX takes a functional route: a model
        is a pure function of its parameters, and <code>grad</code>, <code>jit</code> and <code>vmap</code> are
        transformations of functions, implemented by tracing the Python function into an intermediate form and compiling it
        with XLA [7, 8]. TensorFlow.js runs eagerly like PyTorch, mirrors TensorFlow’s operations and Keras’s layers, and
        must manage GPU memory explicitly because JavaScript’s garbage collector cannot see it [9].
      </p>
      <p>
        Here is the multilayer perceptron of every GPT block — Linear, GELU in its tanh form [10], Linear — and one training
        step of it, written for each [12]. The mathematics is identical; the shape of the program is not.
      </p>

      <FrameworkCode />

      <p>
        The compilation row matters most for speed. The tanh form of GELU is eight element-wise operations; run eagerly, each
        one reads the whole (N, 4C) activation from memory and writes a new one. A compiler that sees the whole expression —
        XLA under <code>jit</code>, TorchInductor under <code>torch.compile</code> [11] — fuses them into one kernel that reads
        once and writes once, and the operation turns from memory-bound to nearly free. TensorFlow.js has no such compiler,
        which is why GPT Lab writes some fused kernels of its own and why the next widget counts kernels.
      </p>

      <h2>Where a training step spends its time</h2>
      <p>
        <code>tf.profile</code> runs a function and records every kernel tfjs executes: its name, the shapes it produced, the
        memory it created and, where the backend can time kernels, how long it took. The widget profiles one complete step of
        your model — forward pass, loss, backward pass, gradient clipping and the AdamW update — on a copy, after one warm-up
        step so that shader compilation is not counted.
      </p>
      <p>
        Things to notice. <code>BatchMatMul</code> appears about three times per Linear layer (once forward, twice backward).
        In a large model the matrix products take almost all the time; in GPT Lab’s small one they often do not, and the
        table shows why: the AdamW update alone runs more than a dozen small element-wise kernels (<code>Multiply</code>,{' '}
        <code>Add</code>, <code>Sqrt</code>, <code>RealDiv</code>, …) for every parameter tensor, and GELU and LayerNorm add
        more, so a step makes well over a thousand kernel calls for a model with a few dozen weight tensors. Each is cheap;
        together they can outweigh the arithmetic that matters. The peak memory counts everything tfjs holds at the step’s
        worst moment: your model and its AdamW moments, the copy and its moments, and the activations kept for the backward
        pass. On a GPU, much of the time of all those small kernels is launch
        overhead, and cutting their number — fusing them — is the cheapest speed-up there is.
      </p>

      <KernelProfile />

      <h2>Things to try</h2>
      <ul>
        <li>
          Set a = 0 in the expression. Which gradients vanish, and why does ∂f/∂a not? (Look at the second path into a.)
        </li>
        <li>Make a·b + c large, say a = 4, b = 3: watch tanh saturate, the adjoints shrink and their relative errors grow.</li>
        <li>
          Turn the causal mask off in the attention head. Does the first row of ∂L/∂Q stay zero? Which entries of P change?
        </li>
        <li>Read the four code samples and find, in each, the line that computes the gradients and the line that frees memory.</li>
        <li>
          Profile a step, change the model’s width or context length in the lab (Apply), and profile again: which kernels grow
          fastest?
        </li>
        <li>
          Profile on a different backend (the lab’s backend menu): on WebGPU without timestamp queries the table sorts by
          memory, and the wall-clock time of the step is the honest number.
        </li>
      </ul>

      <Sources>
        <li>
          [1] A. Griewank, A. Walther, <cite>Evaluating Derivatives: Principles and Techniques of Algorithmic
          Differentiation</cite>, 2nd ed., SIAM, 2008.
        </li>
        <li>
          [2] A. G. Baydin, B. A. Pearlmutter, A. A. Radul, J. M. Siskind, “Automatic Differentiation in Machine Learning: a
          Survey”, JMLR 18, 2018.
        </li>
        <li>
          [3] D. E. Rumelhart, G. E. Hinton, R. J. Williams, “Learning representations by back-propagating errors”, Nature
          323, 1986.
        </li>
        <li>[4] A. Vaswani et al., “Attention Is All You Need”, NeurIPS 2017.</li>
        <li>[5] A. Paszke et al., “PyTorch: An Imperative Style, High-Performance Deep Learning Library”, NeurIPS 2019.</li>
        <li>[6] M. Abadi et al., “TensorFlow: A System for Large-Scale Machine Learning”, OSDI 2016.</li>
        <li>[7] J. Bradbury et al., “JAX: composable transformations of Python+NumPy programs”, software, 2018.</li>
        <li>[8] R. Frostig, M. J. Johnson, C. Leary, “Compiling machine learning programs via high-level tracing”, SysML 2018.</li>
        <li>[9] D. Smilkov et al., “TensorFlow.js: Machine Learning for the Web and Beyond”, SysML 2019.</li>
        <li>[10] D. Hendrycks, K. Gimpel, “Gaussian Error Linear Units (GELUs)”, arXiv:1606.08415, 2016.</li>
        <li>
          [11] J. Ansel et al., “PyTorch 2: Faster Machine Learning Through Dynamic Python Bytecode Transformation and Graph
          Compilation”, ASPLOS 2024.
        </li>
        <li>[12] Optax documentation (optimizers for JAX); Keras 3 documentation (layers, optimizers, jit_compile).</li>
      </Sources>
    </>
  );
}
