import { OutlineNote, Sources } from '../outline';

/** Chapter 5 — Infrastructure (outline). */
export default function Infrastructure() {
  return (
    <>
      <OutlineNote />
      <p className="lede">
        The model in the lab trains on one device in a browser tab. Frontier models train on thousands of accelerators for
        months. This chapter measures the first and uses the numbers to explain the second.
      </p>
      <p>
        Training costs about six floating-point operations per parameter for every token seen: two for the forward pass,
        four for the backward pass [1]. For GPT-3, with 175 billion parameters trained on 300 billion tokens, that comes
        to about 3 × 10²³ operations [2]. The chapter will count the same way for our model, compare the count with the
        speed the lab measures, and set both against a large matrix multiply on your device, the practical ceiling.
      </p>
      <p>
        The hardware is built for that matrix multiply. GPUs run thousands of threads and have units dedicated to small
        matrix products; Google’s TPUs are built around a systolic array, a grid of multiply-accumulate units that pass
        operands to their neighbours [3]. Often the limit is not arithmetic but memory bandwidth, and the roofline model
        shows which one binds for a given kernel [4].
      </p>
      <p>
        Memory is the other wall. In 32-bit floats, training with AdamW keeps four numbers per parameter (the weight, its
        gradient and the optimiser’s two moments), 16 bytes before any activations; the lab refuses a model whose estimate
        will not fit. Large runs split the work across machines: copies of the model on different data (data
        parallelism), each matrix multiply split across GPUs (tensor parallelism [5]), the layers split into stages
        (pipeline parallelism [6]), and optimiser state sharded so that no device holds all of it [7]. A browser has one
        device, so the chapter explains these with numbers rather than running them.
      </p>
      <Sources>
        <li>[1] J. Kaplan et al., “Scaling Laws for Neural Language Models”, 2020.</li>
        <li>[2] T. Brown et al., “Language Models are Few-Shot Learners” (GPT-3), NeurIPS 2020, appendix D.</li>
        <li>[3] N. Jouppi et al., “In-Datacenter Performance Analysis of a Tensor Processing Unit”, ISCA 2017.</li>
        <li>
          [4] S. Williams, A. Waterman, D. Patterson, “Roofline: An Insightful Visual Performance Model for Multicore
          Architectures”, CACM 2009.
        </li>
        <li>[5] M. Shoeybi et al., “Megatron-LM: Training Multi-Billion Parameter Language Models Using Model Parallelism”, 2019.</li>
        <li>[6] Y. Huang et al., “GPipe: Efficient Training of Giant Neural Networks using Pipeline Parallelism”, NeurIPS 2019.</li>
        <li>[7] S. Rajbhandari et al., “ZeRO: Memory Optimizations Toward Training Trillion Parameter Models”, SC 2020.</li>
      </Sources>
    </>
  );
}
