import { Sources } from '../outline';
import { MatmulBench } from './MatmulBench';
import './measure-widgets.css';
import './languages.css';

/** Chapter 1 — Languages: Python on top, compiled kernels underneath, and where the time goes. */
export default function Languages() {
  return (
    <>
      <p className="lede">
        Language models are written in Python, yet almost none of their arithmetic runs in Python. This chapter follows one
        operation, the matrix multiply, down through the layers of software beneath a training script, and times it at each
        level on your own machine.
      </p>

      <h2>Python describes, kernels compute</h2>
      <p>
        A line such as <code>y = x @ W</code> in a PyTorch script does very little by itself. The Python interpreter (CPython)
        reads it as bytecode and, for each instruction, looks up what the objects are, finds the method to call, and calls it.
        That bookkeeping costs far more than an addition: every Python number is a full object on the heap, and adding two of
        them means checking their types, allocating a new object for the result and counting references. A loop of
        multiply-adds written in pure Python runs orders of magnitude slower than the same loop in machine code.
      </p>
      <p>
        So Python is kept out of the inner loops. When <code>x @ W</code> reaches PyTorch, its C++ core (ATen) checks shapes
        and types once, picks an implementation for the device the tensors live on, and hands the whole product to a{' '}
        <em>kernel</em>: a compiled routine that runs one operation over every element. On an NVIDIA GPU that is usually a
        routine from cuBLAS or a kernel written in CUDA C++ (or generated through Triton when <code>torch.compile</code> is
        on) [1, 2]. One Python statement can launch billions of floating-point operations, so the microseconds Python spends
        deciding what to do are spread over a great deal of work. This division of labour is why Python won: it is pleasant to
        write, has the libraries, and its slowness stops mattering once each call does enough work.
      </p>
      <p>
        The price appears when the work per call is small. A model made of many small operations spends its time in the
        overhead between kernels — launching them, moving data, returning to Python — rather than in arithmetic. That is the
        reason for the compilers of the next chapter, which fuse many small operations into fewer large kernels, and the reason
        this lab counts kernels per training step.
      </p>

      <h2>The same layers in a browser</h2>
      <p>
        GPT Lab has the same structure in another language. TypeScript plays Python’s part: it says what to compute. TensorFlow.js
        plays PyTorch’s: its core records the operation, and a <em>backend</em> runs it as a kernel [3]. Four backends matter
        here, and they are four different answers to “what does the machine actually execute?”:
      </p>
      <ul>
        <li>
          <strong>cpu</strong>: kernels written in JavaScript. The browser’s engine (V8 in Chromium) compiles hot JavaScript
          to machine code as it runs — a just-in-time compiler — so these loops are far faster than an interpreter, but they
          work on one number at a time, on one core, with bounds checks on every array access [4].
        </li>
        <li>
          <strong>wasm</strong>: kernels written in C++ (largely Google’s XNNPACK library) and compiled ahead of time to
          WebAssembly, a compact low-level instruction format the browser translates to machine code [5, 6]. Its 128-bit SIMD
          instructions work on four 32-bit floats at once. On a cross-origin-isolated page GPT Lab lets tfjs start several
          threads (half the machine’s logical cores, as tfjs chooses). From three threads up, its training step leaves the
          matrix products’ multiply-adds to XNNPACK’s threads and does the rest in GPT Lab’s own SIMD kernels; with fewer,
          its own single-threaded kernels are faster.
        </li>
        <li>
          <strong>webgl</strong>: kernels written as GLSL fragment shaders, the graphics pipeline bent to do arithmetic: each
          output element is a “pixel” of a texture.
        </li>
        <li>
          <strong>webgpu</strong>: kernels written in WGSL, the WebGPU Shading Language, as compute shaders [7]. The GPU runs
          thousands of threads at once, grouped into <em>workgroups</em> that share a small, fast memory. This is the closest a
          browser gets to CUDA.
        </li>
      </ul>
      <p>
        Below, the reader’s own browser computes one product C = A·B of two n × n matrices four ways: a TypeScript
        triple loop as a first attempt would write it, and the tfjs <code>matMul</code> on the cpu, wasm and webgpu backends.
        Every way gets the same inputs (uniform in [−1, 1), from a fixed seed), a warm-up run that is not timed, and several
        timed runs. A product costs 2n³ floating-point operations (n³ multiplies and n³ adds), so GFLOP/s is 2n³ divided by the
        median time. The results are compared entry by entry: different summation orders round differently in float32, so
        they agree to about 10⁻⁵ of the entries’ size, not exactly.
      </p>

      <MatmulBench />

      <h2>Where the time goes</h2>
      <p>
        A kernel’s time is the largest of three costs: doing the arithmetic, moving the data between memory and the
        arithmetic units, and the fixed cost of getting started. Which one wins depends on the <em>arithmetic intensity</em>{' '}
        — operations per byte moved. An n × n product reads two matrices and writes one, 3·4n² bytes in float32, for 2n³
        operations: n/6 operations per byte. At n = 64 that is about 11; at n = 1024 it is about 171. The roofline model
        makes this precise: a kernel can go no faster than the device’s peak arithmetic rate, nor faster than its memory
        bandwidth times its arithmetic intensity [8]. Large matrix products are <em>compute-bound</em>, which is why they are
        the yardstick for a machine’s practical ceiling; the element-wise operations around them (adding a bias, GELU,
        LayerNorm) do one or two operations per number loaded and are <em>memory-bound</em> on every device.
      </p>
      <p>What to look for in the table, and why:</p>
      <ul>
        <li>
          <strong>The loop is naive about memory.</strong> Its innermost loop walks down a column of B, reading floats n apart
          (4 KB apart at n = 1024), so once the matrices outgrow the processor’s caches most of those reads wait on main memory:
          compare its GFLOP/s at n = 256 and at n = 1024. Swapping the two inner loops (i, k, j order) makes every read
          sequential; the full cure — blocking for each level of cache, packing tiles into the order the arithmetic reads them,
          keeping partial sums in registers — is what tuned libraries do, and it is most of what separates a textbook loop
          from a fast matmul [9].
        </li>
        <li>
          <strong>tfjs cpu is JavaScript too, and often no faster than the loop.</strong> Its matmul handles every case —
          batches of matrices, transposed inputs — and works in 48 × 48 blocks so that pieces of A and B stay in cache while
          they are reused. But the index arithmetic that generality costs is paid in the innermost loop, and the JIT needs
          several calls before it has compiled the kernel well, so its first products are its slowest. Two JavaScript loops
          can differ by more than the language: measure, don’t guess.
        </li>
        <li>
          <strong>wasm adds vector instructions and a tuned C++ library.</strong> XNNPACK packs the matrices into the layout
          its micro-kernels read fastest and does four multiply-adds per SIMD instruction. On one core this is usually the
          fastest CPU path by a wide margin.
        </li>
        <li>
          <strong>webgpu depends entirely on what is behind it.</strong> On a real GPU, large products run tens to hundreds
          of times faster than any CPU path. In a browser without a GPU (or in the test machines of this project) WebGPU runs
          on SwiftShader, a software GPU on the CPU: correct, but slow. At small n even a real GPU loses: uploading the inputs,
          launching the shader and reading the result back cost a fixed amount of time whatever n is. The benchmark reads the
          result back asynchronously (<code>await t.data()</code>) so the page never freezes while the GPU works.
        </li>
      </ul>
      <p>
        Try the same sizes on each way: the ratio between ways changes with n, and that change is the whole story of fixed
        costs against compute.
      </p>

      <h2>Reading the shader</h2>
      <p>
        When WebGPU runs, the widget shows the WGSL program tfjs compiled for the product. It is worth reading even without
        knowing WGSL. The <code>@compute @workgroup_size(…)</code> line says how many threads form a workgroup. Each thread
        computes a small tile of C (several outputs, not one, so that every value it loads is used more than once). Inside the
        main loop the workgroup copies a tile of A and a tile of B into <code>var&lt;workgroup&gt;</code> memory — shared by
        the workgroup and much faster than the GPU’s main memory — waits at a <code>workgroupBarrier()</code> until every
        thread has written its share, and then every thread multiplies from the shared copy. This is the same tiling idea as the
        cpu backend’s 48 × 48 blocks, at another level of the memory hierarchy, and the same idea CUDA matmul kernels use with
        their <code>__shared__</code> memory [10]. The long header before the main function is code tfjs generates for every
        program: bindings for the input and output buffers, the shapes as uniforms, and index helpers.
      </p>

      <h2>From this page to a data centre</h2>
      <p>
        The gap between the slowest and fastest way on this page is the gap that decides what training large models costs.
        A current data-centre GPU such as NVIDIA’s H100 peaks near 10¹⁵ dense 16-bit floating-point operations per second in
        its tensor cores — matrix-multiply units that do a small matrix product per instruction [11]. No real training run
        reaches the peak: large runs report the fraction they achieve as <em>model FLOPs utilisation</em>, and the PaLM
        training reported about 46% [12]. The rest is lost to the same things measured here: memory traffic, kernel launches,
        communication, and operations too small to keep the machine busy.
      </p>
      <p>
        GPT Lab’s model is small, so its matrix products are small: with the <code>base</code> preset, a batch of 12 windows of
        128 tokens and a width of 128 gives products such as (1536 × 128) by (128 × 384) — about 150 million operations each,
        far below what saturates a GPU. That is why the lab measures every backend on your machine before choosing one, and
        why, on some machines, WebAssembly beats the GPU for this model. The <em>Infrastructure</em> chapter compares a
        training step with the plain-matmul ceiling measured here.
      </p>

      <h2>Things to try</h2>
      <ul>
        <li>Run n = 64, then n = 1024. Which way gains most from the larger size, and why does the loop gain little or even slow down?</li>
        <li>
          Compare the loop with tfjs cpu: both are JavaScript. Run the same size twice — does the ratio hold once the JIT has
          warmed up? What does the difference tell you about the cost of generality?
        </li>
        <li>
          Look at the difference column. Are the differences larger at n = 1024 than at n = 64? Each entry of C is a sum of n
          products, and float32 rounding errors grow with the length of the sum.
        </li>
        <li>
          With WebGPU available, find the size at which it overtakes WebAssembly. Below it, fixed costs dominate; above it,
          parallel arithmetic does.
        </li>
        <li>
          Read the WGSL: find the workgroup size, the shared-memory tiles and the barrier. Run a very small size (n = 16) and
          see whether tfjs picks a different program.
        </li>
        <li>Start training in the lab, then run the benchmark: training pauses while it measures and resumes afterwards.</li>
      </ul>

      <Sources>
        <li>
          [1] A. Paszke et al., “PyTorch: An Imperative Style, High-Performance Deep Learning Library”, NeurIPS 2019 (the Python
          front end over a C++ core, and its dispatch costs).
        </li>
        <li>
          [2] J. Ansel et al., “PyTorch 2: Faster Machine Learning Through Dynamic Python Bytecode Transformation and Graph
          Compilation”, ASPLOS 2024 (torch.compile, TorchInductor generating Triton kernels).
        </li>
        <li>[3] D. Smilkov et al., “TensorFlow.js: Machine Learning for the Web and Beyond”, SysML 2019.</li>
        <li>[4] The V8 project, v8.dev documentation and blog on its optimising compiler, TurboFan.</li>
        <li>[5] A. Haas et al., “Bringing the Web up to Speed with WebAssembly”, PLDI 2017.</li>
        <li>
          [6] TensorFlow.js WASM backend README (tfjs-backend-wasm), which builds on the XNNPACK library and ships SIMD and
          threaded binaries.
        </li>
        <li>[7] W3C, “WebGPU” and “WebGPU Shading Language (WGSL)” specifications.</li>
        <li>
          [8] S. Williams, A. Waterman, D. Patterson, “Roofline: An Insightful Visual Performance Model for Multicore
          Architectures”, Communications of the ACM 52(4), 2009.
        </li>
        <li>
          [9] K. Goto, R. van de Geijn, “Anatomy of High-Performance Matrix Multiplication”, ACM Transactions on Mathematical
          Software 34(3), 2008.
        </li>
        <li>[10] NVIDIA, “CUDA C++ Programming Guide”, section on shared memory (its tiled matrix multiplication example).</li>
        <li>
          [11] NVIDIA, “H100 Tensor Core GPU” datasheet: about 989 TFLOP/s dense BF16 for the SXM part (twice that with
          structured sparsity).
        </li>
        <li>[12] A. Chowdhery et al., “PaLM: Scaling Language Modeling with Pathways”, JMLR 24, 2023 (model FLOPs utilisation, 46.2%).</li>
      </Sources>
    </>
  );
}
