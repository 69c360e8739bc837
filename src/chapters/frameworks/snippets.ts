/**
 * One layer — the GPT MLP block, Linear(C → 4C) → GELU (tanh form) → Linear(4C → C) — and one
 * training step of it, written by this project in each of four frameworks. Shown as text; each is
 * complete enough to run with its framework installed (tfjs: inside an async function).
 */

export interface Snippet {
  id: 'pytorch' | 'keras' | 'jax' | 'tfjs';
  framework: string;
  language: string;
  code: string;
}

const PYTORCH = `import torch
import torch.nn as nn
import torch.nn.functional as F

class MLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)     # weight (4C, C), bias (4C,)
        self.c_proj = nn.Linear(4 * width, width)   # weight (C, 4C), bias (C,)

    def forward(self, x):                            # x: (N, C)
        h = F.gelu(self.c_fc(x), approximate="tanh") # (N, 4C)
        return self.c_proj(h)                        # (N, C)

device = "cuda" if torch.cuda.is_available() else "cpu"
mlp = MLP(128).to(device)                # parameters move to the device
opt = torch.optim.AdamW(mlp.parameters(), lr=1e-3, weight_decay=0.1)
step_mlp = torch.compile(mlp)            # optional: capture and fuse (PyTorch 2)

x = torch.randn(64, 128, device=device)
target = torch.randn(64, 128, device=device)

loss = F.mse_loss(step_mlp(x), target)   # runs now; the graph for backward is recorded
opt.zero_grad()
loss.backward()                          # reverse mode: fills p.grad for every parameter
opt.step()                               # AdamW update, in place
print(loss.item())                       # waits for the GPU, copies one number back`;

const KERAS = `import tensorflow as tf
import keras

C = 128
mlp = keras.Sequential([
    keras.Input(shape=(C,)),
    keras.layers.Dense(4 * C, activation=lambda t: keras.activations.gelu(t, approximate=True)),
    keras.layers.Dense(C),               # Dense keeps its kernel as (in, out)
])
opt = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.1)

@tf.function(jit_compile=True)           # trace once into a graph, compile it with XLA
def train_step(x, target):
    with tf.GradientTape() as tape:      # records the operations run inside
        loss = tf.reduce_mean(tf.square(mlp(x) - target))
    grads = tape.gradient(loss, mlp.trainable_variables)
    opt.apply_gradients(zip(grads, mlp.trainable_variables))
    return loss

x = tf.random.normal((64, C))            # placed on a GPU automatically when there is one
target = tf.random.normal((64, C))
print(float(train_step(x, target)))

# Or let Keras write the loop:
# mlp.compile(optimizer=opt, loss="mse", jit_compile=True); mlp.fit(x, target)`;

const JAX = `import jax
import jax.numpy as jnp
import optax

def init(key, width):
    k1, k2 = jax.random.split(key)
    return {                                           # a pytree: nested dicts of arrays
        "c_fc":   {"w": 0.02 * jax.random.normal(k1, (width, 4 * width)), "b": jnp.zeros(4 * width)},
        "c_proj": {"w": 0.02 * jax.random.normal(k2, (4 * width, width)), "b": jnp.zeros(width)},
    }

def mlp(params, x):                                    # x: (N, C); a pure function
    h = jax.nn.gelu(x @ params["c_fc"]["w"] + params["c_fc"]["b"], approximate=True)
    return h @ params["c_proj"]["w"] + params["c_proj"]["b"]

def loss_fn(params, x, target):
    return jnp.mean((mlp(params, x) - target) ** 2)

opt = optax.adamw(1e-3, weight_decay=0.1)              # optimizers live in a separate library

@jax.jit                                               # trace, then compile the whole step with XLA
def train_step(params, opt_state, x, target):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, target)   # grad is a function transformation
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss   # new arrays: nothing is mutated

params = init(jax.random.key(0), 128)                  # on the default device (GPU/TPU if present)
opt_state = opt.init(params)
x, target = jax.random.normal(jax.random.key(1), (2, 64, 128))
params, opt_state, loss = train_step(params, opt_state, x, target)
print(float(loss))`;

const TFJS = `import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

await tf.setBackend('webgpu');             // or 'webgl', 'wasm', 'cpu': one backend for everything

const C = 128;
const weight = (shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.02));
const p = {
  fcW: weight([C, 4 * C]), fcB: tf.variable(tf.zeros([4 * C])),
  projW: weight([4 * C, C]), projB: tf.variable(tf.zeros([C])),
};

/** GELU in its tanh form, as GPT-2 uses it (tfjs has no such op: it is built from others). */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

function mlp(x: tf.Tensor2D): tf.Tensor {                   // x: (N, C)
  const h = gelu(tf.add(tf.matMul(x, p.fcW), p.fcB));       // (N, 4C)
  return tf.add(tf.matMul(h, p.projW), p.projB);            // (N, C)
}

const opt = tf.train.adam(1e-3);           // no AdamW built in: GPT Lab writes its own (src/train/adamw.ts)
const x = tf.randomNormal([64, C]) as tf.Tensor2D;
const target = tf.randomNormal([64, C]);

// minimize: run f on a tape, compute the gradients of every variable, apply the update.
const loss = opt.minimize(() => tf.losses.meanSquaredError(target, mlp(x)) as tf.Scalar, true)!;
console.log(await loss.data());            // read back asynchronously: the page keeps drawing
tf.dispose([x, target, loss]);             // GPU memory is freed by hand (or inside tf.tidy)`;

export const SNIPPETS: readonly Snippet[] = [
  { id: 'pytorch', framework: 'PyTorch', language: 'Python', code: PYTORCH },
  { id: 'keras', framework: 'TensorFlow / Keras', language: 'Python', code: KERAS },
  { id: 'jax', framework: 'JAX (with Optax)', language: 'Python', code: JAX },
  { id: 'tfjs', framework: 'TensorFlow.js', language: 'TypeScript', code: TFJS },
];

/** What each framework does for you, one row per duty. */
export const DUTIES: readonly { duty: string; cells: Record<Snippet['id'], string> }[] = [
  {
    duty: 'Tensors and devices',
    cells: {
      pytorch: 'torch.Tensor on a device you name (cpu, cuda, mps); .to(device) moves data; mixing devices in one op is an error.',
      keras: 'tf.Tensor, placed on a GPU automatically when there is one; tf.device(…) overrides; TPUs through a distribution strategy.',
      jax: 'Immutable jax.Array on the default device; jax.device_put and shardings place it, across many devices if asked.',
      tfjs: 'tf.Tensor on the one active backend (webgpu, webgl, wasm, cpu), chosen with tf.setBackend for the whole program.',
    },
  },
  {
    duty: 'Automatic differentiation',
    cells: {
      pytorch: 'A tape built as operations run (define-by-run); loss.backward() walks it and adds into each parameter’s .grad.',
      keras: 'tf.GradientTape records the operations inside its block; tape.gradient(loss, variables) walks it backwards.',
      jax: 'jax.grad turns a function into its gradient function, by tracing it; composes with jit, vmap and itself (higher derivatives).',
      tfjs: 'A tape while tf.grad, tf.variableGrads or optimizer.minimize runs its function; gradients come back as new tensors.',
    },
  },
  {
    duty: 'Optimizers',
    cells: {
      pytorch: 'torch.optim (SGD, Adam, AdamW, …) updates parameters in place; zero_grad() clears the accumulated gradients.',
      keras: 'keras.optimizers (AdamW included) with apply_gradients, or model.compile + fit for the whole loop.',
      jax: 'Not in JAX itself: Optax provides them as pure functions of (gradients, state) returning updates and a new state.',
      tfjs: 'tf.train.sgd, adam, rmsprop, …; no decoupled weight decay, so GPT Lab writes AdamW itself.',
    },
  },
  {
    duty: 'Compilation',
    cells: {
      pytorch: 'Eager by default. torch.compile captures Python bytecode into graphs (TorchDynamo) and generates fused kernels (TorchInductor, Triton on GPUs).',
      keras: 'Eager by default in TF 2. tf.function traces Python into a graph; jit_compile=True hands the graph to XLA, which fuses operations.',
      jax: 'jax.jit traces the whole function once per input shape and compiles it with XLA; Python runs only while tracing.',
      tfjs: 'No graph compiler: every op runs as its own kernel. WebGPU and WebGL shaders are compiled on first use and cached per shape; a few fused ops exist (matMul with bias and activation).',
    },
  },
  {
    duty: 'Memory',
    cells: {
      pytorch: 'Freed by reference counting when the last Python reference goes; a caching allocator keeps GPU blocks for reuse.',
      keras: 'Freed when unreferenced; TensorFlow’s allocator manages device memory.',
      jax: 'Freed when unreferenced; inside jit, XLA plans the buffers of the whole step (and can reuse donated inputs).',
      tfjs: 'Freed by hand: dispose() or tf.tidy(), because JavaScript’s garbage collector cannot see GPU memory.',
    },
  },
];
