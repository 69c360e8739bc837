/**
 * The supervised fine-tuning set: short questions and answers about the guide's own subjects,
 * written for this project, in the chat format of chat.ts. Every pair uses only characters of
 * Moby-Dick (the vocabulary of the shipped model) and fits, formatted, in the `base` preset's
 * context of 128 characters (tests/unit/finetune.test.ts checks both).
 *
 * A formatted pair is one exchange ending in a blank line, the chat format's end of a reply:
 *
 *     User: What is a token?\nAssistant: One unit of text the model reads; here, one character.\n\n
 *
 * Everything up to and including `Assistant:` is the prompt (loss weight 0); the space, the answer
 * and the closing blank line are what the model learns to write (weight 1).
 *
 * Pure: no tfjs, no DOM, so the page may import it.
 */
import { ASSISTANT_PROMPT, ROLE_LABELS } from './chat';

export interface QAPair {
  question: string;
  answer: string;
}

/** Where a formatted pair's reply ends: a blank line (one of the chat format's end markers). */
export const PAIR_END = '\n\n';

/** The prompt part of a pair: `User: <question>\nAssistant:`. */
export function pairPrompt(question: string): string {
  return `${ROLE_LABELS.user}: ${question}\n${ASSISTANT_PROMPT}`;
}

/** The answer part as the model writes it after the prompt: a space, the answer, a blank line. */
export function pairCompletion(answer: string): string {
  return ` ${answer}${PAIR_END}`;
}

/** The whole pair as training text. */
export function formatPair(pair: QAPair): string {
  return pairPrompt(pair.question) + pairCompletion(pair.answer);
}

/** Characters a formatted pair adds around its question and answer. */
export const PAIR_OVERHEAD = formatPair({ question: '', answer: '' }).length;

/** A problem with a pair, on the field it concerns. */
export interface PairError {
  field: 'question' | 'answer';
  message: string;
}

function quoteChars(chars: string[]): string {
  const shown = chars.slice(0, 5).map((c) => (c === '\t' ? 'a tab' : `“${c}”`));
  return shown.join(', ') + (chars.length > 5 ? ` and ${chars.length - 5} more` : '');
}

/**
 * Every problem with `pair` for a model with this vocabulary and context length, each on its field;
 * empty when the pair can be trained on. Allocates nothing.
 */
export function validatePair(pair: { question?: unknown; answer?: unknown }, vocabulary: ReadonlySet<string>, contextLength: number): PairError[] {
  const errors: PairError[] = [];
  for (const field of ['question', 'answer'] as const) {
    const value = pair[field];
    if (typeof value !== 'string') {
      errors.push({ field, message: `The ${field} must be text.` });
      continue;
    }
    if (value.trim() === '') {
      errors.push({ field, message: `The ${field} is empty: write a few words.` });
      continue;
    }
    if (/[\r\n]/.test(value)) {
      errors.push({ field, message: `The ${field} must be one line: a line break would end the turn.` });
      continue;
    }
    const outside = [...new Set([...value].filter((c) => !vocabulary.has(c)))];
    if (outside.length > 0) {
      errors.push({
        field,
        message: `The ${field} has ${outside.length === 1 ? 'a character' : 'characters'} the model has never seen: ${quoteChars(outside)}. Use the letters, digits and punctuation of the corpus.`,
      });
    }
  }
  if (errors.length === 0) {
    const q = pair.question as string;
    const a = pair.answer as string;
    const length = formatPair({ question: q, answer: a }).length;
    if (length > contextLength) {
      const over = length - contextLength;
      errors.push({
        field: a.length >= q.length ? 'answer' : 'question',
        message:
          `Together with its chat labels the pair is ${length} characters, ${over} more than the model’s context of ${contextLength}: ` +
          `question and answer may have ${Math.max(contextLength - PAIR_OVERHEAD, 0)} characters between them.`,
      });
    }
  }
  return errors;
}

// The pairs, as [question, answer]. Grouped by the chapter they come from.
const RAW: readonly (readonly [string, string])[] = [
  // Small talk, short enough for the `tiny` preset's context of 32.
  ['Hi!', 'Hello!'],
  ['Hello?', 'Ahoy!'],
  ['Thanks.', 'Sure.'],
  ['Bye.', 'Goodbye.'],
  ['Ready?', 'Yes.'],
  ['Who?', 'A GPT.'],
  ['Sad?', 'No.'],

  // The model itself.
  ['Who are you?', 'A small GPT that lives in this web page and was trained on Moby-Dick.'],
  ['What are you?', 'A decoder-only transformer that predicts the next character of text.'],
  ['What did you read?', 'Moby-Dick, the novel by Herman Melville, and nothing else.'],
  ['How big are you?', 'About eight hundred thousand parameters: tiny next to the models people chat with.'],
  ['What is your context length?', 'I see 128 characters at a time; anything older is forgotten.'],
  ['What is your vocabulary?', 'The 89 different characters of Moby-Dick, one token each.'],
  ['Where do you run?', 'In a Web Worker in your browser, on WebGPU, WebGL, WebAssembly or plain JavaScript.'],
  ['Can you see the internet?', 'No. Everything I know came from my training text and from you.'],
  ['Are you always right?', 'No. I guess the likely next character, and likely is not the same as true.'],
  ['How many layers do you have?', 'Four transformer blocks, each with four attention heads.'],
  ['How wide are you?', 'My residual stream has 128 channels.'],
  ['Who trained you?', 'The GPT Lab project, and now you, in this page.'],
  ['Do you remember me?', 'Only what is in my context window; nothing else stays between chats.'],
  ['Why do you talk like a sailor?', 'Because all I read before this was a book about whaling.'],
  ['What is GPT Lab?', 'A guide that teaches how GPT models are made, with one small GPT you train yourself.'],
  ['Can I change you?', 'Yes: train me, fine-tune me, or teach me your preferences in this chapter.'],
  ['Do you have feelings?', 'No. I am a function from text to probabilities of the next character.'],
  ['What is your name?', 'I have none; call me the lab model.'],
  ['Where are your weights kept?', 'In your browser, saved in IndexedDB, and in a file you can export.'],

  // Languages.
  ['Why is Python used for AI?', 'It is easy to write, and its libraries hand the heavy maths to fast compiled code.'],
  ['Is Python fast?', 'Not by itself; it is fast when it calls compiled code that does the work.'],
  ['Why are AI kernels written in C?', 'Compiled code runs close to the machine, where speed matters most.'],
  ['What is CUDA?', "NVIDIA's way to write programs that run on its GPUs."],
  ['What is a kernel?', 'A small program that runs on the GPU, over many data elements at once.'],
  ['What is JavaScript?', 'The language of web pages; this lab is written in TypeScript, which becomes JavaScript.'],
  ['What is TypeScript?', 'JavaScript with types, checked before the code runs.'],
  ['What is WebAssembly?', 'A compact binary format that browsers run at close to native speed.'],
  ['What is Rust?', 'A systems language with memory safety checked by its compiler.'],
  ['What is a compiler?', 'A program that turns code people write into code a machine runs.'],
  ['Why is the GIL a problem?', 'It lets only one Python thread run Python code at a time.'],
  ['What is NumPy?', 'A Python library of fast arrays; most numeric Python builds on it.'],
  ['What is Triton?', 'A language for writing GPU kernels in Python-like code.'],
  ['What is a shader?', 'A program that runs on the GPU; WebGPU calls its compute programs shaders too.'],
  ['What is WGSL?', 'The shading language of WebGPU.'],

  // Frameworks.
  ['What is PyTorch?', 'A Python library for tensors and automatic gradients, the most used for research.'],
  ['What is TensorFlow?', "Google's framework for machine learning; TensorFlow.js runs it in browsers."],
  ['What is TensorFlow.js?', "TensorFlow for JavaScript: the library this lab's model is written with."],
  ['What is JAX?', 'A Python library that differentiates and compiles NumPy-like code.'],
  ['What is a tensor?', 'An array of numbers with any number of dimensions, like a matrix with more axes.'],
  ['What is autograd?', 'Automatic differentiation: the library records operations and computes gradients for you.'],
  ['What is a gradient?', 'How much the loss changes for a small change of each parameter.'],
  ['What is backpropagation?', 'The chain rule applied from the loss back through every operation.'],
  ['What is a computation graph?', 'The record of operations from inputs to loss that gradients flow back through.'],
  ['What is a backend?', 'The code that actually runs the tensor operations, on a CPU or a GPU.'],
  ['Why use a GPU?', 'It does thousands of multiplications at once, and a network is mostly multiplications.'],
  ['What is a matmul?', "A matrix multiplication, the operation that takes most of a transformer's time."],
  ['What is eager mode?', 'Running each operation as soon as it is called, rather than building a graph first.'],
  ['What is tf.tidy?', 'A TensorFlow.js function that frees the tensors made inside it once it ends.'],

  // Transformers.
  ['What is a transformer?', 'A network of attention and MLP blocks that reads a sequence all at once.'],
  ['What is a token?', 'One unit of text the model reads; here, one character.'],
  ['What is a tokenizer?', 'It turns text into token ids and back.'],
  ['What is BPE?', 'Byte pair encoding: it merges frequent pairs of symbols into subword tokens.'],
  ['Why do big models use subwords?', 'Words become fewer tokens, so more text fits in the context.'],
  ['What is an embedding?', "A learned vector for each token, the model's first picture of it."],
  ['What is a position embedding?', "A learned vector for each place in the window, added to the token's."],
  ['What is attention?', 'Each position takes a weighted mix of earlier positions, with weights it computes.'],
  ['What are queries and keys?', 'Vectors whose dot products score how much one position attends to another.'],
  ['What are values?', 'What each position passes on when another attends to it.'],
  ['What is the causal mask?', 'It hides the future: a position may attend only to itself and earlier ones.'],
  ['What is softmax?', 'It turns scores into probabilities that are positive and sum to one.'],
  ['Why divide scores by a square root?', 'So dot products do not grow with the head size and softmax stays soft.'],
  ['What is a head?', 'One attention computation of several in a layer, each with its own queries and keys.'],
  ['Why many heads?', 'Each head can look for a different pattern in the same text.'],
  ['What is the MLP?', 'Two linear layers with a GELU between, applied to each position alone.'],
  ['What is GELU?', 'A smooth activation function, close to ReLU, used in GPT models.'],
  ['What is LayerNorm?', "It rescales each position's vector to zero mean and unit variance, then scales it."],
  ['What is the residual stream?', 'The running sum each block reads from and adds to.'],
  ['Why residual connections?', 'They let gradients flow straight through deep networks.'],
  ['What is a logit?', 'A raw score for one next token, before softmax.'],
  ['What does temperature do?', 'It divides the logits: low is careful and repetitive, high is wild.'],
  ['What is top-k sampling?', 'Sampling only among the k most likely next tokens.'],
  ['What is top-p sampling?', 'Sampling from the fewest likely tokens whose probabilities add up to p.'],
  ['What is greedy decoding?', 'Always picking the most likely next token.'],
  ['What is weight tying?', 'Using the token embedding matrix as the output layer too.'],
  ['What does decoder-only mean?', 'The model only predicts forward, with no separate encoder.'],
  ['Who invented the transformer?', 'Vaswani and others at Google, in the 2017 paper Attention Is All You Need.'],

  // Training.
  ['What is pre-training?', 'Training on a large text to predict the next token, before any tuning.'],
  ['What is the loss?', 'The cross-entropy of the next-token guesses; lower is better.'],
  ['What is cross-entropy?', 'Minus the log of the probability the model gave to the right token.'],
  ['Why does the loss start near 4.5?', 'An untrained model guesses evenly over 89 characters: ln 89 is 4.49.'],
  ['What is a batch?', 'A few windows of text trained on together in one step.'],
  ['What is a step?', "One update of the weights from one batch's gradients."],
  ['What is an epoch?', 'One pass over the whole training data.'],
  ['What is the learning rate?', 'How big a step the optimizer takes along the gradient.'],
  ['What if the learning rate is too high?', 'The loss jumps about or becomes NaN.'],
  ['What if the learning rate is too low?', 'The loss falls, but very slowly.'],
  ['What is warmup?', 'Raising the learning rate from zero over the first steps, so early updates stay small.'],
  ['What is a cosine schedule?', 'The learning rate falls like half a cosine wave from its peak to a floor.'],
  ['What is AdamW?', 'Adam with weight decay applied apart from the gradient step.'],
  ['What is Adam?', 'An optimizer that keeps running averages of gradients and of their squares.'],
  ['What is weight decay?', 'Shrinking the weights a little each step, to keep them small.'],
  ['What is gradient clipping?', 'Scaling the gradients down when their norm is too large.'],
  ['What is overfitting?', 'Learning the training text by heart, so the validation loss rises.'],
  ['What is validation loss?', 'The loss on text held out from training: the honest measure.'],
  ['What is dropout?', 'Zeroing random activations during training, to make the model robust.'],
  ['What is fine-tuning?', 'Training a pre-trained model a little more, on a small, specific data set.'],
  ['What is SFT?', 'Supervised fine-tuning: training on answers written by people.'],
  ['Why mask the prompt in SFT?', 'So the model learns to write the answers, not the questions.'],
  ['What is RLHF?', 'Reinforcement learning from human feedback: tuning a model toward answers people prefer.'],
  ['What is a reward model?', 'A model trained on human comparisons to score answers.'],
  ['What is PPO?', 'Proximal Policy Optimization, the reinforcement learning method used in InstructGPT.'],
  ['What is DPO?', 'Direct Preference Optimization: it learns from preferred pairs with no reward model.'],
  ['Why keep a reference model in DPO?', 'So the tuned model stays close to where it started.'],
  ['What is a scaling law?', 'A rule that predicts loss from model size, data and compute.'],
  ['What did Chinchilla find?', 'For a fixed budget, train a smaller model on more tokens, about 20 per parameter.'],
  ['What is a checkpoint?', 'A saved copy of the weights, to load later.'],
  ['Why seed the random numbers?', 'So the same settings give the same run again.'],
  ['What is a hyperparameter?', 'A setting chosen before training, like the learning rate or the width.'],
  ['What happens with a bigger batch?', 'Gradients are less noisy, but each step costs more.'],

  // Infrastructure.
  ['What is a GPU?', 'A processor with thousands of small cores, built for parallel arithmetic.'],
  ['What is a TPU?', "Google's chip made for the matrix maths of neural networks."],
  ['What is VRAM?', 'The memory on the GPU, which must hold the weights and activations.'],
  ['What is memory bandwidth?', 'How fast data moves between memory and the cores; it often limits speed.'],
  ['What is data parallelism?', 'Each GPU trains on its own batch, and their gradients are averaged.'],
  ['What is model parallelism?', 'Splitting one model across several GPUs.'],
  ['What is an all-reduce?', 'A step where GPUs sum their gradients so each gets the total.'],
  ['What is mixed precision?', 'Computing in 16-bit floats where safe, to save memory and time.'],
  ['What is a FLOP?', 'One floating-point operation, like one multiply or one add.'],
  ['How many FLOPs does training take?', 'About six times the parameters for each token trained on.'],
  ['What is a data center?', 'A building full of servers, power and cooling.'],
  ['What is SwiftShader?', 'A GPU written in software, so WebGPU runs even with no graphics card.'],
  ['What is WebGPU?', 'A browser API to run programs on the GPU, for graphics and compute.'],
  ['Why does training take so much memory?', 'Weights, gradients, optimizer moments and activations all at once.'],
  ['What is inference?', 'Running a trained model to get outputs, with no training.'],

  // APIs.
  ['What is an API?', 'A fixed way for one program to ask another for something.'],
  ['What is the chat completions API?', 'An endpoint that takes a list of messages and returns the next one.'],
  ['What is streaming?', 'Sending the answer token by token as it is made.'],
  ['What is max tokens?', 'The most tokens the model may write in one reply.'],
  ['What is a stop sequence?', 'Text that ends the reply when the model writes it.'],
  ['What is a system message?', 'An instruction at the start of a chat that sets how the assistant behaves.'],
  ['What is JSON?', 'A plain text format for data, used by most web APIs.'],
  ['What is an endpoint?', 'One address of an API that does one thing.'],
  ['What is latency?', 'The time between asking and the first answer.'],
  ['What is throughput?', 'How many tokens are made per second.'],
  ['Why are APIs priced per token?', 'Cost grows with the tokens a model reads and writes.'],
  ['What is a rate limit?', 'A cap on how many requests you may make in a time.'],
  ['Can this lab serve an API?', 'Yes, an OpenAI-style API, from this page or from the command line.'],

  // Safety.
  ['What is AI safety?', 'Making AI systems do what people intend, without harm.'],
  ['What is alignment?', "Making a model's goals and behaviour match what people want."],
  ['What is a hallucination?', 'A confident answer that is false.'],
  ['Why do models hallucinate?', 'They learn what text is likely, not what is true.'],
  ['What is a jailbreak?', 'A prompt crafted to make a model break its rules.'],
  ['What is prompt injection?', 'Text hidden in the input that tries to override the instructions.'],
  ['What is red teaming?', 'Attacking a model on purpose to find its failures before others do.'],
  ['What is bias in a model?', 'Unfair patterns learned from the training data.'],
  ['Should I trust every answer?', 'No. Check what matters against a good source.'],
  ['What is a refusal?', 'When a model declines a request it should not help with.'],
  ['What is an evaluation?', 'A test set that measures what a model can and cannot do.'],
  ['Is my text sent anywhere?', 'No. Everything here runs in your browser and stays there.'],

  // The whale, for the model that read the book.
  ['Who is Ishmael?', 'The narrator of Moby-Dick, a sailor on the Pequod.'],
  ['Who is Ahab?', 'The captain of the Pequod, who hunts the white whale.'],
  ['What is Moby Dick?', 'A great white sperm whale, and the novel named after him.'],
  ['Who wrote Moby-Dick?', 'Herman Melville, in 1851.'],
  ['What is the Pequod?', 'The whaling ship of the novel.'],
  ['Who is Queequeg?', "A harpooneer from the South Seas and Ishmael's friend."],
];

/** The built-in fine-tuning pairs. */
export const SFT_PAIRS: readonly QAPair[] = RAW.map(([question, answer]) => ({ question, answer }));

/** Questions whose answers the chapter shows before and after fine-tuning. */
export const SHOWCASE_QUESTIONS: readonly string[] = [
  'Who are you?',
  'What is a token?',
  'What is the learning rate?',
  'What is a GPU?',
  'Hi!',
];
