import { useLab } from '../../app/store';
import { SFT_PAIRS } from '../../corpus/sft';
import { Sources } from '../outline';
import { BatchView } from './BatchView';
import { FinetunePanel } from './FinetunePanel';
import { LabLoss } from './LabLoss';
import { PreferencePanel } from './PreferencePanel';
import { RunSamples } from './RunSamples';
import { RunsPanel, ScheduleChart } from './RunsPanel';
import './training.css';

/** A few built-in pairs, to show what the fine-tuning set looks like. */
const EXAMPLE_PAIRS = [SFT_PAIRS[7], SFT_PAIRS[60], SFT_PAIRS[95], SFT_PAIRS[140]];

/** Chapter 4 — Training: pre-training, hyperparameters, fine-tuning and preference tuning, on the live model. */
export default function Training() {
  const hp = useLab((s) => s.status?.hp ?? null);
  const V = hp?.vocabSize ?? 89;
  return (
    <div className="training">
      <p className="lede">
        Three kinds of training turn a pile of random numbers into something that answers: pre-training, fine-tuning and
        preference tuning. This chapter runs all three in your browser, on the model in the lab, and lets you change the
        settings that decide how well they work.
      </p>

      <h2 id="pretraining">Pre-training, live</h2>
      <p>
        Pre-training is the simplest idea in the whole field and the most expensive step: show the model text and ask it,
        at every position, to predict the next token. Nobody labels anything; the text is its own answer key. Our model
        reads <cite>Moby-Dick</cite>, about 1.2 million characters. The first 90% of the characters are the training part,
        the last 10% are held out: the model never trains on them, so its loss there — the <em>validation loss</em> — says
        how well it predicts text it has not seen, which is what we care about.
      </p>

      <h3>What a batch is</h3>
      <p>
        One training step does not look at the whole book. It takes a <em>batch</em>: a few windows of consecutive
        characters, each as long as the model’s <em>context length</em>, cut at random places. The target of each window
        is the same text shifted by one character. Because the model is causal — position <var>t</var> may only look at
        positions up to <var>t</var> — one window of <var>T</var> characters gives <var>T</var> predictions at once: after
        one character, after two, and so on up to the whole window. A batch of <var>B</var> windows is{' '}
        <var>B</var>·<var>T</var> little exercises, and the loss is their average. Here is a real one, drawn from your run:
      </p>
      <BatchView />

      <h3>The loss, and why it starts near ln {V}</h3>
      <p>
        The loss is the <em>cross-entropy</em>: at each position the model outputs a probability for every character of
        its vocabulary, and the loss is −ln of the probability it gave to the character that actually came next, in nats.
        A perfect, certain prediction costs 0; giving the right character a probability of 1/2 costs ln 2 ≈ 0.69.
      </p>
      <p>
        A freshly initialised model has small random weights (drawn from a normal distribution with standard deviation
        0.02, as in GPT-2), so its output scores are all close to zero and the softmax turns them into an almost even
        distribution: every one of the {V} characters gets about 1/{V}. Its loss is therefore −ln(1/{V}) = ln {V} ≈{' '}
        {Math.log(V).toFixed(2)}, and that is where every run from scratch begins — the batch above shows the untrained
        model’s loss beside ln {V}. A starting loss far above it means something is wrong with the initialisation; one far
        below it on the first step means the model can see the answers.
      </p>
      <p>
        The milestones below that are instructive. Predicting each character from its frequency alone — lots of spaces and
        e’s, few z’s — gives the entropy of the character distribution, 3.07 nats for <cite>Moby-Dick</cite>. Using only
        the previous character gets you to about 2.42. The shipped checkpoint reaches about 1.6 on the held-out text: it
        uses the whole context, spelling, and a little grammar. Large models trained on trillions of tokens go much further,
        but on the same curve.
      </p>
      <p>
        The lab’s chart is the one in the dock: press <strong>Train</strong> in the lab and watch it here. The training
        loss is noisy because every step sees a different batch; the validation loss is measured every so often on the same
        fixed set of held-out windows, so it is smooth. When the training curve keeps falling while the validation curve
        turns up, the model has started to memorise its training text rather than learn from it.
      </p>
      <LabLoss />

      <h3>Early, middle and late</h3>
      <p>
        Numbers say how much the model learned; samples say what. The button below trains a separate model from scratch
        with the lab’s settings for a short while, and samples it after a tenth of the steps, half-way and at the end, with
        the same prompt and the same random seed each time. Early samples are a soup of the most common characters; then
        spaces fall between word-like chunks; then real short words, punctuation and capital letters after full stops
        appear. Spelling comes before sense, and sense comes last — for a model this size, mostly never.
      </p>
      <RunSamples />

      <h2 id="hyperparameters">Hyperparameters in action</h2>
      <p>
        The choices made before training starts — the <em>hyperparameters</em> — decide whether a run learns quickly,
        slowly or not at all. Reading about them is much less convincing than watching them: the form below trains a short
        run from scratch on a separate model (your model in the lab is not touched), and every run you train stays on the
        chart, labelled by its settings, so the next one is drawn over it. The fields start from the lab’s current
        settings; change one thing at a time.
      </p>
      <ul>
        <li>
          <strong>Learning rate</strong> scales every update. Too low and the curve creeps down; too high and it jumps
          about, stalls on a plateau or explodes to NaN (the run then stops and says so). The best value is usually just
          below the one that makes training unstable.
        </li>
        <li>
          <strong>Batch size</strong> is how many windows each step averages over. A larger batch gives a less noisy
          gradient and a smoother curve, but each step costs more; compare runs by tokens seen (steps × batch × context),
          not only by steps.
        </li>
        <li>
          <strong>Width</strong> and <strong>layers</strong> set the model’s size: each block holds about 12·width²
          parameters, so doubling the width quadruples them. Larger models reach lower losses, but need more compute per
          step and, in a short run, may not have time to show it.
        </li>
        <li>
          <strong>Context length</strong> is how far back the model can look. A longer context gives it more to go on for
          each prediction and more predictions per window, at a cost that grows with its square in attention.
        </li>
      </ul>
      <RunsPanel />
      <p>
        Work on scaling laws made this quantitative. For large language models, the loss falls as a power law in the
        number of parameters, the amount of data and the compute spent, over many orders of magnitude [5]; and for a fixed
        compute budget the best results come from growing model size and training tokens together, about 20 tokens per
        parameter in the Chinchilla study [6]. Training cost is about 6 FLOPs per parameter per token — 2 for the forward
        pass and 4 for the backward — which is how the lab counts its FLOP/s.
      </p>

      <h3>The schedule the optimizer follows</h3>
      <p>
        The optimizer is AdamW [1]. Adam keeps, for every parameter, a running average of its gradient and of the
        gradient’s square, and moves each parameter by the first divided by the square root of the second: a step of
        roughly the learning rate in every direction, whatever the gradient’s scale. AdamW adds <em>decoupled</em> weight
        decay — each step shrinks the weights by a small fraction, separately from the gradient step, rather than adding a
        penalty to the loss that Adam’s scaling would distort. Here it applies to the 2-D weight matrices only, and the
        gradient is clipped to a global norm of 1 before the update, so one freak batch cannot throw the model off.
      </p>
      <p>
        The learning rate is not constant. It rises linearly from zero during a <em>warmup</em>, because at the start
        Adam’s running averages are built from a handful of gradients and the model is far from anywhere sensible: full
        steps then do damage. Afterwards it follows half a cosine down to a floor (here a tenth of the peak) at the planned
        last step [2]: large steps while the loss is high, small ones to settle at the end. The chart draws the schedule
        of the last comparison run, or the lab’s own before there is one, computed by the same function the trainer calls.
      </p>
      <ScheduleChart />

      <h2 id="finetuning">Fine-tuning</h2>
      <p>
        A pre-trained model continues text; it does not answer questions. Asked “What is a token?”, ours goes on with
        something Melville might have written next. <em>Supervised fine-tuning</em> (SFT) changes that by training the
        same model a little more on examples of the behaviour we want — here, short conversations in the lab’s chat format:
      </p>
      <pre className="chat-example">
        {EXAMPLE_PAIRS.map((p) => `User: ${p.question}\nAssistant: ${p.answer}\n`).join('\n')}
      </pre>
      <p>
        This project wrote {SFT_PAIRS.length} such pairs about the guide’s own subjects — languages, frameworks,
        transformers, training, infrastructure, APIs, safety and the model itself — using only characters that occur in{' '}
        <cite>Moby-Dick</cite> (the model has no token for anything else) and each short enough to fit, with its labels, in
        the 128-character context of the shipped model. A blank line ends every answer; it is one of the two end markers of
        the chat format, so a tuned model learns to stop.
      </p>
      <p>
        The loss is <em>masked</em>: each pair is one training window, and only the positions whose target is part of the
        answer count. The question is there as context — the model reads it — but it is never asked to predict it. Without
        the mask the model would spend much of its effort learning to write questions, which is not the job; with it, the
        loss is the average cross-entropy over answer characters only. The learning rate is lower than in pre-training
        (3·10⁻⁴ with a short warmup here) and the run is short, because the aim is to adjust behaviour, not to overwrite
        what the model knows. InstructGPT’s SFT stage used about 13,000 prompts with answers written by labellers [3]; ours
        is a hundred times smaller, and so is the model.
      </p>
      <p>
        Press the button to fine-tune the model in the lab on the built-in pairs and any you add. The answers to the same
        questions, sampled with the same seed and temperature before and after, appear side by side. Expect the format to
        change first: answers that start like answers and end with a blank line, words from the fine-tuning set, the
        “A …” of a definition. Expect the facts to be shaky — a model of under a million parameters trained on one novel
        can learn the shape of an answer far more easily than its content. A smaller model in the lab (the{' '}
        <code>tiny</code> preset has a context of 32 characters) can only use the pairs that fit its context; the chapter
        says how many were left out.
      </p>
      <FinetunePanel />

      <h2 id="rlhf">RLHF, for real and small</h2>
      <p>
        Fine-tuning on written answers teaches what a good answer looks like, but people are better at judging answers than
        at writing them, and many qualities — helpful, honest, harmless, concise — are easier to compare than to define.
        <em> Reinforcement learning from human feedback</em> (RLHF) uses those judgements. In InstructGPT [3] it had three
        steps after pre-training: supervised fine-tuning as above; a <em>reward model</em> trained on human rankings of
        several answers to the same prompt, with the loss −ln σ(r(x, y<sub>w</sub>) − r(x, y<sub>l</sub>)) for every
        preferred answer y<sub>w</sub> and worse answer y<sub>l</sub>; and reinforcement learning with PPO [7], in which the
        model writes answers, the reward model scores them, and the model is updated to raise the score minus a penalty
        β·KL for drifting away from the SFT model. The penalty matters: without it, the model finds answers the reward
        model likes for the wrong reasons.
      </p>
      <p>
        <em>Direct Preference Optimization</em> (DPO) [4] reaches the same objective without the reward model and without
        reinforcement learning. The KL-penalised objective has a known best policy, π*(y|x) ∝ π<sub>ref</sub>(y|x)·exp(r(x,
        y)/β), which can be turned round to express the reward through the policy: r(x, y) = β·ln(π(y|x) / π<sub>ref</sub>
        (y|x)) plus a term that depends on the prompt only. Put that into the reward model’s loss and the prompt term
        cancels, leaving a loss on the policy itself:
      </p>
      <p className="formula">
        L = −ln σ(β·[(ln π(y<sub>w</sub>|x) − ln π<sub>ref</sub>(y<sub>w</sub>|x)) − (ln π(y<sub>l</sub>|x) − ln π
        <sub>ref</sub>(y<sub>l</sub>|x))])
      </p>
      <p>
        Here ln π(y|x) is the sum of the log-probabilities of the answer’s characters after the prompt, π<sub>ref</sub> a
        frozen copy of the model from before the step, and β (0.1 here) how strongly the model is held near it. At the
        start the model is its own reference, the bracket is 0 and the loss is ln 2 ≈ 0.693; each gradient step raises the
        probability of the answers you preferred relative to the ones you rejected, measured against where the model
        started. One loss, computed on fixed data, trained like SFT: that simplicity is why DPO and its relatives became
        common for open models.
      </p>
      <p>
        Try it: draw two answers from the model in the lab (sampled at temperature 1 with two different seeds), pick the
        better one, and repeat a few times — with the same prompt or others. Then run a DPO step on your picks: a few
        gradient steps on the loss above. The <em>preference margin</em> — how many nats more log-probability the model
        gives your chosen answers than your rejected ones — is measured before and after, and two samples per prompt with
        fixed seeds show what changed. With a handful of picks the model can overfit quickly: the margin grows, and the
        samples may drift in ways you did not ask for. Real preference data sets hold tens of thousands of comparisons for
        that reason.
      </p>
      <PreferencePanel />

      <h2 id="things-to-try">Things to try</h2>
      <ul>
        <li>
          Train a comparison run, multiply the learning rate by ten and train another; then divide it by ten. Which curve
          ends lowest after the same number of steps, and which one breaks?
        </li>
        <li>Halve the batch size and double the steps: the same number of tokens. Is the curve noisier? Does it end lower?</li>
        <li>
          Draw a batch before and after training the lab for a minute: the untrained model’s loss stays at ln {V}, yours
          falls.
        </li>
        <li>
          Add three pairs that all answer in the same odd style (say, every answer starts with “Aye,”) and fine-tune for
          100 steps. Does the style carry over to questions you did not write?
        </li>
        <li>
          Fine-tune with many more steps and watch the answers: when do they start to repeat the training answers word for
          word, even for other questions?
        </li>
        <li>
          In the preference step, always pick the shorter answer. After two or three steps, are the model’s answers
          shorter? That is a reward model’s favourite loophole in miniature: the model learns what you rewarded, not what
          you meant.
        </li>
      </ul>

      <Sources>
        <li>[1] I. Loshchilov, F. Hutter, “Decoupled Weight Decay Regularization”, ICLR 2019.</li>
        <li>[2] I. Loshchilov, F. Hutter, “SGDR: Stochastic Gradient Descent with Warm Restarts”, ICLR 2017.</li>
        <li>[3] L. Ouyang et al., “Training language models to follow instructions with human feedback”, NeurIPS 2022.</li>
        <li>
          [4] R. Rafailov et al., “Direct Preference Optimization: Your Language Model is Secretly a Reward Model”, NeurIPS
          2023.
        </li>
        <li>[5] J. Kaplan et al., “Scaling Laws for Neural Language Models”, arXiv:2001.08361, 2020.</li>
        <li>[6] J. Hoffmann et al., “Training Compute-Optimal Large Language Models”, NeurIPS 2022.</li>
        <li>[7] J. Schulman et al., “Proximal Policy Optimization Algorithms”, arXiv:1707.06347, 2017.</li>
        <li>
          The character entropies of <cite>Moby-Dick</cite> (3.07 nats from frequencies alone, 2.42 given the previous
          character) were computed by this project from the bundled text.
        </li>
      </Sources>
    </div>
  );
}
