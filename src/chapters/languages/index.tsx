import { OutlineNote, Sources } from '../outline';

/** Chapter 1 — Languages (outline). */
export default function Languages() {
  return (
    <>
      <OutlineNote />
      <p className="lede">
        Language models are written in Python, yet almost none of their arithmetic runs in Python. This chapter follows one
        training step down the stack to find out where the time really goes.
      </p>
      <p>
        The Python in a training script describes <em>what</em> to compute. Libraries written in C++ and CUDA do the
        computing, in <em>kernels</em>: small programs that each run one operation, such as a matrix multiply or a softmax,
        across thousands of GPU threads at once. PyTorch is built this way, a Python front end over a C++ core whose GPU
        kernels are written in CUDA [1].
      </p>
      <p>
        Our model has the same layers in another language. TypeScript describes the model; TensorFlow.js turns each
        operation into a kernel for the backend that runs it [2]: a WGSL compute shader on WebGPU [3], a GLSL shader on
        WebGL, C++ compiled to WebAssembly (partly from Google’s XNNPACK library) on the WASM backend [4], or plain
        JavaScript loops on the CPU backend. The chapter will show one operation at each of these levels.
      </p>
      <p>
        Where the time goes is a sum of three costs: the arithmetic, moving the data to and from memory, and the fixed
        price of launching each kernel. For a model as small as ours the fixed costs can outweigh the maths, which is why
        the GPU is not always the fastest choice here, and why the lab measures every backend on your machine rather than
        assuming. The chapter will time one step on each backend, count the kernels it launches, and compare it with a
        large matrix multiply on the same backend, the practical ceiling.
      </p>
      <Sources>
        <li>
          [1] A. Paszke et al., “PyTorch: An Imperative Style, High-Performance Deep Learning Library”, NeurIPS 2019.
        </li>
        <li>[2] D. Smilkov et al., “TensorFlow.js: Machine Learning for the Web and Beyond”, SysML 2019.</li>
        <li>[3] W3C, “WebGPU” and “WebGPU Shading Language” specifications.</li>
        <li>[4] The TensorFlow.js WASM backend’s README (tfjs-backend-wasm), which names XNNPACK.</li>
      </Sources>
    </>
  );
}
