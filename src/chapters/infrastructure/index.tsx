import { Sources } from '../outline';
import { DataParallelSim } from './DataParallelSim';
import { ExportPanel } from './ExportPanel';
import { HardwarePanel } from './HardwarePanel';
import { ScalingCalculator } from './ScalingCalculator';
import './infrastructure.css';

/** Chapter 5 — Infrastructure: the reader's own machine, scaling up, PyTorch, and data parallelism. */
export default function Infrastructure() {
  return (
    <>
      <p className="lede">
        The model in the lab trains on one device in a browser tab. Frontier models train on thousands of accelerators for
        months. This chapter measures the first, uses the numbers to reason about the second, hands your model to PyTorch
        when you outgrow the browser, and runs the central trick of multi-GPU training — data parallelism with a ring
        all-reduce — inside the engine, so that you can check it gives the right answer.
      </p>

      <h2>Your own hardware</h2>
      <p>
        The engine runs on one of four tfjs backends: WebGPU (compute shaders on your GPU), WebGL (the same arithmetic
        disguised as drawing), WebAssembly (compiled C++ on the CPU) or plain JavaScript. It measured each when the lab
        started and took the fastest; the lab tells you which and why. WebGPU describes the GPU through an <em>adapter</em>:
        who made it, which architecture, and whether it is a <em>fallback adapter</em> — a software implementation such as
        SwiftShader, which runs the same shaders on the CPU, correctly and slowly [19]. The adapter also publishes{' '}
        <em>limits</em>: the largest buffer, the largest buffer one kernel may bind, how many buffers a kernel may bind,
        how much fast shared memory a workgroup gets. The specification guarantees minimums that every device meets (a
        binding of at least 128 MiB, eight storage buffers per shader stage) so that a page behaves the same everywhere;
        a page may ask for more where the adapter allows [19]. The engine is written to live within them: AdamW sums the
        squared gradients pairwise rather than binding the model’s dozens of gradients to one kernel, because eight buffers per stage
        is all a page can count on.
      </p>
      <p>
        Memory is counted in bytes per parameter. In float32, training keeps the weight (4 bytes), its gradient (4) and
        AdamW’s two running averages (8): 16 bytes per parameter before a single activation is stored. Mixed-precision
        training on GPUs keeps the same 16 (a 16-bit weight and gradient, plus float32 copies of the weight and both
        moments); the ZeRO paper counts it this way for a 1.5-billion-parameter GPT-2, 24 GB of model state on a
        32 GB GPU [15]. Activations — what the backward pass needs from the forward pass — grow with batch × context ×
        width × layers and, at large batch, dominate.
      </p>
      <p>
        Speed is counted in floating-point operations. One token through the model costs about 6·N FLOPs to train on
        (N parameters; two per parameter forward, a multiply and an add, and twice that backward, for the gradients with
        respect to both activations and weights), plus 12·L·T·C for attention’s own products (L layers, context T, width
        C) [1, 9]. Multiplied by the tokens per second the lab measures, that is the FLOP/s your machine achieves. Set it
        against the <em>ceiling</em>: the FLOP/s of one large square matrix product on the same backend, the best case of
        the operation that dominates training. The ratio is the utilisation. Large runs report the same ratio against
        the chip’s datasheet peak as <em>model FLOPs utilisation</em> [9]. Ours is usually far lower than theirs, for
        reasons the roofline model makes precise [18]: our matrices are small (width 128), so each kernel does little
        arithmetic per byte it reads, and a training step launches hundreds of kernels, many of them element-wise
        (LayerNorm, GELU, softmax, AdamW) whose speed is set by memory bandwidth, not arithmetic.
      </p>
      <HardwarePanel />

      <h2>Scaling up</h2>
      <p>
        The 6·N·D rule turns a model size and a number of training tokens into a compute budget. For GPT-3, 6 × 175 × 10⁹
        parameters × 300 × 10⁹ tokens = 3.15 × 10²³ FLOPs; the paper’s own count, which includes attention, is
        3.14 × 10²³ [2]. (Attention’s share is small at that size: 12·L·T·C against 6·N is about T / (6·C), 3 % for
        GPT-3’s context of 2,048 and width of 12,288 [2].) Dividing by an accelerator’s peak rate and the fraction of it
        a real run achieves gives device-time. Peak rates are for 16-bit matrix products on the chip’s matrix units, dense
        (NVIDIA also quotes doubled figures that assume structured sparsity, which training does not use). A
        well-tuned large run reaches 30–50 % of peak: PaLM reported 46 % on TPU v4, and estimated 21 % for GPT-3 [9].
      </p>
      <p>
        How many tokens a model of a given size should see is itself a result. Hoffmann et al. trained hundreds of models
        and found that, for a fixed compute budget, parameters and tokens should grow together — about 20 tokens per
        parameter — and showed it with Chinchilla, 70 billion parameters on 1.4 trillion tokens, which beat larger models
        trained on fewer tokens [4]. GPT-3, at under 2 tokens per parameter, was by that measure undertrained.
      </p>
      <ScalingCalculator />
      <p>
        The last row is the sobering one. It divides by the FLOP/s your machine reached while training the lab’s model,
        not by a datasheet: the number of years it prints for GPT-3 is what a browser tab would need. Even at full speed,
        the compute of large models exists only as thousands of chips working on one problem at once, which is what the
        rest of this chapter is about.
      </p>

      <h2>Graduate to real infrastructure</h2>
      <p>
        When the browser is too small for what you want to train, take the model with you. The export below packs
        your weights, your training settings, your text and a training script written for this project into one{' '}
        <code>.tar</code>. The script is plain PyTorch (version 1.13 or newer, no other package). It reads the{' '}
        <code>.safetensors</code> checkpoint by hand — eight bytes of header length, a JSON header, the raw float32
        numbers — builds the same GPT with the same parameter names, and cuts the text exactly as the lab does: the first
        90 % trains, the last 10 % validates. It draws the validation windows with the lab’s own random generator,
        ported to Python, so the first number it prints is the validation loss in your checkpoint’s metadata, to about
        six digits. Then it trains with AdamW and writes a checkpoint in the lab’s format, which you can import back
        here.
      </p>
      <p>
        On a machine with several GPUs, <code>torchrun --nproc_per_node 4 train_gpt_lab.py</code> starts four copies of
        the script, one per GPU. Each wraps the model in <code>DistributedDataParallel</code>, which averages gradients
        across the copies during the backward pass, overlapping communication with the computation of the layers still
        to go [12]. The script deals each step’s windows out among the processes, so four GPUs take the same steps one
        GPU would take with four times the time. On CUDA it uses NCCL for the all-reduce; on a CPU, Gloo, which is how
        the project checks it (two CPU processes, in <code>scripts/torch/check-graduate.sh</code>).
      </p>
      <ExportPanel />
      <p>What changes when the model and the data are a thousand times larger:</p>
      <ul>
        <li>
          <strong>Data loaders.</strong> Our text is a megabyte and fits in memory as token ids. Real corpora are terabytes:
          they are tokenized once, ahead of time, into binary shards of token ids, read through memory-mapping, and
          prefetched by background workers so the GPU never waits. Each process reads its own shards, and the position in
          the data is saved with each checkpoint so that a resumed run neither repeats nor skips data.
        </li>
        <li>
          <strong>Mixed precision.</strong> The peak rates above are for 16-bit inputs. Matrix products run in bfloat16
          (float32’s exponent range with fewer mantissa bits) or float16, while a float32 master copy of the weights takes
          the updates. float16’s small range makes small gradients underflow to zero, so it needs <em>loss scaling</em>:
          multiply the loss before backward, divide the gradients after [16]. bfloat16 needs none. The script’s{' '}
          <code>--amp</code> flag does both.
        </li>
        <li>
          <strong>Checkpointing.</strong> On thousands of GPUs, something fails every few hours. A run saves its full
          state — weights, optimizer moments, the random generators, the data position: the lab’s resume record, at scale
          — regularly, each process writing its own shard in parallel, and restarts from the last one without a human.
        </li>
        <li>
          <strong>Several nodes.</strong> GPUs in one server talk over NVLink (900 GB/s per H100 [6]); servers talk over
          InfiniBand or Ethernet, several times slower. <code>torchrun --nnodes</code> starts the same script on every
          machine and a rendezvous point tells the processes about each other. The parallelism is then arranged so that
          the heaviest traffic stays inside a server, as the next section explains.
        </li>
        <li>
          <strong>Larger batches.</strong> More workers means a larger global batch per step. Up to a point, a larger batch
          allows a proportionally larger learning rate with a warmup, and the loss per token seen stays the same [17];
          beyond it, extra workers only add cost.
        </li>
      </ul>

      <h2>Distributed training, simulated</h2>
      <p>
        Data parallelism gives each of N workers a full copy of the model and a shard of the batch. The loss is a mean
        over the batch’s windows, and the gradient of a mean is the mean of the gradients: if worker k holds n
        <sub>k</sub> of the B windows, the gradient of the whole batch is Σ (n<sub>k</sub> / B) · g<sub>k</sub>, the
        shards’ gradients weighted by their share (with equal shards, the plain average). So the workers compute their
        gradients independently, combine them, and all take the same optimizer step: the result is the step one worker
        would take on the whole batch, N times faster in arithmetic. Only the combining costs extra.
      </p>
      <p>
        The combining is an <em>all-reduce</em>: every worker starts with its own gradient buffer and ends with the sum
        of all of them. The ring all-reduce does it with each worker talking only to its two neighbours. Each buffer is
        cut into N chunks. In the <em>reduce-scatter</em> phase, N − 1 rounds, each worker sends one chunk to the next
        and adds the chunk it receives into its own; after the last round each worker holds one chunk completely summed.
        In the <em>all-gather</em> phase, N − 1 more rounds, the finished chunks travel once around the ring, overwriting
        the stale copies. Each worker has sent 2·(N − 1) chunks of P / N values: 2·(N − 1)/N · P values, under twice the
        gradient’s size however many workers there are. No algorithm can do with less per worker [10]; Baidu brought it
        to deep learning and Horovod and NCCL made it the standard [11].
      </p>
      <p>
        The simulation below does exactly this in the engine: N virtual workers each compute a real gradient
        (<code>tf.grads</code> of the model’s loss on their shard), the ring passes real chunks of their real buffers and
        counts the bytes, and then one AdamW step is taken from the all-reduced gradient and, separately, from the
        gradient of the whole batch on one worker. The two agree to float32 rounding. The gradients, whose sums are merely
        added in a different order, agree to about seven digits; the updates to about five, because AdamW’s first step
        divides each gradient by its own magnitude, which magnifies the rounding of the tiniest ones. Dropout is off for the comparison: each worker would draw
        different dropout masks, which is fine for training but not for checking equality.
      </p>
      <DataParallelSim />
      <p>
        The table shows the cost that grows with the model. Each step, every worker sends about twice its gradient: 8 bytes
        per parameter in float32, 4 in bfloat16, whatever the batch. The arithmetic per worker, 6 · N · (tokens per
        worker), grows with the batch, so a large per-worker batch hides the communication behind computation, and
        DistributedDataParallel starts sending the last layers’ gradients while the first layers are still being
        differentiated [12]. What data parallelism cannot fix is memory: every worker holds the whole model and its
        optimizer state, 16 bytes per parameter, 2.8 TB for GPT-3. Three other splits address it:
      </p>
      <ul>
        <li>
          <strong>Sharded data parallelism</strong> (ZeRO, PyTorch’s FSDP) keeps data parallelism but gives each worker only
          1/N of the optimizer state, gradients and weights; the all-reduce becomes a reduce-scatter (each worker gets the
          summed gradient of its own part) and the weights are all-gathered layer by layer when needed [15]. The
          communication is about the same as a ring all-reduce; the memory per worker drops N-fold.
        </li>
        <li>
          <strong>Tensor parallelism</strong> splits each weight matrix across GPUs. Megatron-LM cuts the MLP’s first matrix
          by columns and its second by rows, so each GPU computes its part of the 4·C hidden layer alone and one
          all-reduce per block joins the results; attention is split by heads the same way [13]. It needs that all-reduce
          in every layer, forward and backward, so it stays inside one server, on NVLink.
        </li>
        <li>
          <strong>Pipeline parallelism</strong> splits the layers into consecutive stages on different GPUs, which pass
          activations forward and gradients back. One batch would keep one stage busy at a time, so it is cut into
          micro-batches that flow through the stages one after another; with p stages and m micro-batches, a fraction
          (p − 1)/(m + p − 1) of the time is still idle, the <em>bubble</em> [14]. Only activations at stage borders
          cross the network, which suits the slower links between servers.
        </li>
      </ul>
      <p>
        Large runs combine all three: tensor parallelism within a server, pipeline stages across a few servers, and data
        parallelism across the copies of that arrangement, each chosen so that the heaviest traffic takes the fastest
        links [20].
      </p>

      <h2>Things to try</h2>
      <ul>
        <li>
          Press <strong>Measure the matmul ceiling</strong>, then train in the lab for half a minute and come back: how much
          of the ceiling does the model use? Switch the lab to another backend, measure again, and compare.
        </li>
        <li>
          Put the lab’s <code>small</code> preset into the calculator, then GPT-3: how many orders of magnitude lie between,
          and how many of them does the accelerator table close?
        </li>
        <li>
          Run the simulation with 1, 2 and 8 workers on your own model. The bytes per worker approach twice the gradient
          but never reach it; the differences from the single batch stay at float32 rounding.
        </li>
        <li>
          Export your model, run <code>python3 train_gpt_lab.py --steps 200</code> on a GPU (or{' '}
          <code>torchrun --nproc_per_node 2 … --device cpu</code> on a laptop), and import the result: the lab’s
          validation loss for it matches the one PyTorch printed.
        </li>
        <li>
          Train the same export with <code>--batch-size</code> 12 on one process and on three: the losses match, because
          the windows of each step are the same and only their division changes.
        </li>
      </ul>

      <Sources>
        <li>[1] J. Kaplan et al., “Scaling Laws for Neural Language Models”, arXiv:2001.08361, 2020 (training compute C ≈ 6·N·D, section 2.1).</li>
        <li>[2] T. Brown et al., “Language Models are Few-Shot Learners” (GPT-3), NeurIPS 2020: 175B parameters, 300B tokens, table D.1 (3.14 × 10²³ FLOPs).</li>
        <li>[3] A. Radford et al., “Language Models are Unsupervised Multitask Learners” (GPT-2), OpenAI, 2019: 1.5B parameters, WebText of 40 GB.</li>
        <li>[4] J. Hoffmann et al., “Training Compute-Optimal Large Language Models” (Chinchilla), NeurIPS 2022.</li>
        <li>[5] NVIDIA, “NVIDIA A100 Tensor Core GPU” datasheet: 312 TFLOP/s BF16/FP16 Tensor Core, dense (624 with sparsity).</li>
        <li>[6] NVIDIA, “NVIDIA H100 Tensor Core GPU” datasheet: H100 SXM 1,979 TFLOP/s BF16 with sparsity, half of it dense; NVLink 900 GB/s.</li>
        <li>[7] NVIDIA, “NVIDIA V100 Tensor Core GPU” datasheet: 125 TFLOP/s Tensor Core (SXM2).</li>
        <li>[8] N. Jouppi et al., “TPU v4: An Optically Reconfigurable Supercomputer for Machine Learning with Hardware Support for Embeddings”, ISCA 2023: 275 TFLOP/s bf16 per chip.</li>
        <li>[9] A. Chowdhery et al., “PaLM: Scaling Language Modeling with Pathways”, 2022, section 4.1 (model FLOPs utilization: PaLM 46.2 %, GPT-3 21.3 %).</li>
        <li>[10] P. Patarasuk and X. Yuan, “Bandwidth Optimal All-reduce Algorithms for Clusters of Workstations”, J. Parallel and Distributed Computing, 2009.</li>
        <li>[11] A. Sergeev and M. Del Balso, “Horovod: fast and easy distributed deep learning in TensorFlow”, arXiv:1802.05799, 2018.</li>
        <li>[12] S. Li et al., “PyTorch Distributed: Experiences on Accelerating Data Parallel Training”, VLDB 2020.</li>
        <li>[13] M. Shoeybi et al., “Megatron-LM: Training Multi-Billion Parameter Language Models Using Model Parallelism”, arXiv:1909.08053, 2019.</li>
        <li>[14] Y. Huang et al., “GPipe: Efficient Training of Giant Neural Networks using Pipeline Parallelism”, NeurIPS 2019.</li>
        <li>[15] S. Rajbhandari et al., “ZeRO: Memory Optimizations Toward Training Trillion Parameter Models”, SC 2020.</li>
        <li>[16] P. Micikevicius et al., “Mixed Precision Training”, ICLR 2018.</li>
        <li>[17] P. Goyal et al., “Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour”, arXiv:1706.02677, 2017.</li>
        <li>[18] S. Williams, A. Waterman, D. Patterson, “Roofline: An Insightful Visual Performance Model for Multicore Architectures”, CACM 2009.</li>
        <li>[19] W3C, “WebGPU”, Candidate Recommendation: GPUAdapter, GPUAdapterInfo.isFallbackAdapter, the limits and their guaranteed defaults.</li>
        <li>[20] D. Narayanan et al., “Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM”, SC 2021.</li>
      </Sources>
    </>
  );
}
