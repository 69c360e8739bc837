import { OutlineNote, Sources } from '../outline';

/** Chapter 4 — Training (outline). */
export default function Training() {
  return (
    <>
      <OutlineNote />
      <p className="lede">
        Three kinds of training turn a pile of random numbers into something that answers: pre-training, fine-tuning and
        preference tuning. This chapter runs all three in your browser, on the model in the lab.
      </p>
      <p>
        <strong>Pre-training</strong> teaches the model to predict the next character of its text. The loss is the
        cross-entropy of that prediction, in nats per character. A model that guesses uniformly among the 89 characters of{' '}
        <cite>Moby-Dick</cite> scores ln 89 ≈ 4.49; the checkpoint that ships with the site reaches about 1.6 on the 10%
        of the book held out for validation. The gap between the training and the validation curves tells learning from
        memorising, and the lab draws both.
      </p>
      <p>
        The optimiser is AdamW, Adam with weight decay applied separately from the gradient step [1], here only to the
        2-D weight matrices. The learning rate rises linearly during a warmup, then follows a cosine down to a floor [2],
        and the gradient is clipped to a global norm of 1. The chapter will let you change each of these in the lab’s
        form and watch what the curve does.
      </p>
      <p>
        <strong>Fine-tuning</strong> continues training a pre-trained model on a small, specific data set; supervised
        fine-tuning on answers written by people was the first of the three steps that made InstructGPT follow
        instructions [3]. The chapter will
        fine-tune our model on short dialogues written for this project.{' '}
        <strong>Preference tuning</strong> then teaches it to prefer one answer over another: RLHF fits a reward model to
        human comparisons and optimises against it with reinforcement learning [3], while Direct Preference Optimization
        reaches a similar objective from the comparisons directly, with no reward model [4].
      </p>
      <Sources>
        <li>[1] I. Loshchilov, F. Hutter, “Decoupled Weight Decay Regularization”, ICLR 2019.</li>
        <li>[2] I. Loshchilov, F. Hutter, “SGDR: Stochastic Gradient Descent with Warm Restarts”, ICLR 2017.</li>
        <li>[3] L. Ouyang et al., “Training language models to follow instructions with human feedback”, NeurIPS 2022.</li>
        <li>
          [4] R. Rafailov et al., “Direct Preference Optimization: Your Language Model is Secretly a Reward Model”, NeurIPS
          2023.
        </li>
      </Sources>
    </>
  );
}
