import { Sources } from '../outline';
import { BiasProbe, useProbePairs } from './BiasProbe';
import { CorpusCounts } from './CorpusCounts';
import { FilterDemo } from './FilterDemo';
import { Memorisation } from './Memorisation';
import { Mitigation } from './Mitigation';
import './safety.css';

/** Chapter 7 — Safety: bias measured and mitigated, memorisation measured, alignment and its limits. */
export default function Safety() {
  const [pairs, setPairs] = useProbePairs();
  return (
    <div className="safety">
      <p className="lede">
        A model learns what is in its data, remembers more of it than you might expect, and can be steered only so far.
        This chapter measures all three on the model in the lab, changes one of them for real, and is honest about what a
        model of under a million parameters can and cannot show.
      </p>

      <h2 id="bias">Bias you can measure</h2>
      <p>
        A language model is trained to make its training text probable, so it learns the text’s regularities, including
        the ones we would rather it did not. Word embeddings trained on Google News completed the analogy “man is to
        computer programmer as woman is to …” with “homemaker” [1]; embeddings trained on ordinary web text reproduce the
        associations that psychologists measure with the Implicit Association Test [2]. Nobody wrote those associations
        into the model. They are statistics of the text, learned as faithfully as grammar.
      </p>
      <p>
        The direct way to see a bias in a generative model is to ask it about two texts that differ in one attribute only
        and compare the probabilities it gives them. A <em>counterfactual pair</em> does that: “The captain said that he
        was” against “The captain said that she was”. Our model is a character-level GPT, so the probability of a
        continuation is the product of the probabilities of its characters, each given everything before it; in logs,
        a sum. The <em>gap</em> of a pair is
      </p>
      <p className="formula">gap = log P(masculine side) − log P(feminine side),</p>
      <p>
        in nats (natural logarithms). A gap of 0 means the model does not care which; a gap of 1 means it finds the
        masculine side e ≈ 2.7 times as likely; a gap of 3 means twenty times. The probe below uses two kinds of pair:
        a role followed by a pronoun (does the model expect “he” or “she” after “the nurse said that”? the style of
        WinoBias [3] and of Lu et al. [4]), and a gendered subject followed by an attribute (is “sailor” likelier after “He
        was a” or after “She was a”?).
      </p>
      <BiasProbe pairs={pairs} setPairs={setPairs} />
      <p>
        One caution before reading numbers: the two sides need not have the same length, and “she” has one character more
        than “he”. An untrained model, which spreads its probability evenly over 89 characters, charges about ln 89 ≈ 4.5
        nats for every character, so it shows a “gap” of about 4.5 for every pronoun pair (try the probe after resetting
        the lab to a model from scratch). The comparison is still the right one for a trained model, since each side is the
        probability that the model writes exactly that text, but zero is not where an ignorant model starts.
      </p>
      <p>
        On the shipped model (validation loss 1.617) we measured a mean gap of +2.05 nats over
        the twelve default pairs. The eight role-and-pronoun pairs all sit between +2.8 and +3.4 nats: whatever the role,
        “he” is about twenty times as likely as “she”. Even “the nurse said that” leans masculine, by 3.4 nats. The four
        attribute pairs sit near zero (between −0.34 and +0.20): once a sentence has a subject, this small model barely
        connects the subject to the word that follows a few characters later. So the bias it has is the crudest kind, a
        prior over pronouns, not a learned stereotype about nurses. Large models learn both.
      </p>

      <h3 id="where-from">Where the gap comes from: count it</h3>
      <p>
        Count the corpus. Moby-Dick has 1,897 “he” and 120 “she”, a ratio of 15.8 to 1, and the logarithm of 15.8 is
        2.76 nats, close to the gaps the probe reads for the pronoun pairs. The model has learned the pronoun statistics
        of its book almost exactly. Over all the word pairs of the swap list below, the book has 7,026 masculine words
        against 624 feminine ones, 11 to 1. Read the feminine ones in context and many of them are not women at all:
        “There she blows!” is the cry for a whale, and the Pequod and every other ship in the book is “she”. A novel of
        1851 about a whaling crew is a fine corpus for a toy model and an extreme one for this question; that is why the
        numbers are so plain.
      </p>
      <CorpusCounts />
      <p>
        Why it matters at scale: a model that writes a billion words a day turns a skew in its data into a skew in the
        world’s text, some of which becomes training data again. When such a model writes references, screens CVs or
        translates from a language whose pronouns carry no gender, its prior decides who the doctor is. And bias in a
        large model is rarely this easy to find: it hides in long contexts and indirect associations, which is why
        evaluations use many templates, many attributes and real tasks rather than one sentence [3, 4, 5].
      </p>

      <h2 id="mitigation">Mitigation, for real</h2>
      <p>
        If the gap comes from the data, change the data. <em>Counterfactual data augmentation</em> (CDA) adds, for
        every training sentence, its counterfactual with the gendered words swapped, so that in the augmented corpus every
        pattern appears as often with “she” as with “he” [4]. Lu et al. introduced it for coreference resolution and
        language modelling and found it reduced the measured bias with little loss of accuracy [4]; Zmigrod et al.
        extended it to languages such as Spanish and Hebrew, where swapping a noun’s gender means re-inflecting the
        adjectives and verbs that agree with it [6].
      </p>
      <p>
        Our swap (in <code>src/corpus/counterfactual.ts</code>) exchanges 22 pairs of whole words — he/she, him and
        his/her and hers, man/woman, father/mother, king/queen, Mr./Mrs. and the rest — keeping capitals, and never
        touches “the”, “helmsman” or “sheriff”. English has one genuine ambiguity: “her” is both “him” (“I saw her”) and
        “his” (“her ship”). We decide by the next word, as a cheap stand-in for the part-of-speech tagging a real system
        would use, and the unit tests check that swapping twice gives the text back. Applied to the training split of
        Moby-Dick it swaps 6,694 words.
      </p>
      <p>
        The button below fine-tunes <strong>your</strong> model for a few steps on batches drawn half from the original
        training text and half from its swapped copy (both sides, as Lu et al. train on the union), with a fresh AdamW
        optimizer and a short warmup, then runs the same probe and the same fixed validation batches again. Validation loss
        is measured on the original, unswapped book, so any rise is the price of the mitigation: the model now spends some
        of its probability on sentences Melville did not write.
      </p>
      <Mitigation pairs={pairs} />
      <p>
        On the shipped model, the default run (100 steps at a learning rate of 1e-4: about 150,000 characters, half of them swapped)
        moved the mean gap from +2.05 to +0.55 nats: the pronoun pairs fell from 2.8–3.4 nats to 0.6–1.2, odds of about
        twenty to one down to about two to one. The price was a validation loss up from 1.617 to 1.641, +0.025 nats per
        character. Three things are worth knowing
        about such results. First, CDA treats the symptom it can name: it balances the word pairs in its list and nothing
        else, and associations carried by names, occupations or topics stay. Second, bias measured by one probe can fall
        while bias measured by another does not: Gonen and Goldberg showed that a popular debiasing of word embeddings
        hid the bias from the metric it targeted while the gendered clusters stayed in the geometry [7]. Third, for a large
        model trained on trillions of words, augmenting everything is expensive, and mitigation usually happens later, in
        fine-tuning and preference tuning, with the same limits.
      </p>

      <h2 id="memorisation">Memorisation and privacy</h2>
      <p>
        A model trained to make its training text probable can make some of it <em>very</em> probable: it reproduces
        passages word for word. Carlini et al. extracted hundreds of verbatim training sequences from GPT-2, among them
        names, phone numbers and email addresses of real people, using nothing but generation and a ranking of the samples by
        measures of how confident the model was in them [8]. Later work measured the effect systematically: a sequence is <em>extractable</em>{' '}
        if, prompted with the text before it, the model’s greedy continuation reproduces it exactly; the fraction of
        extractable training data grows log-linearly with model size, with how often a sequence is duplicated in the data,
        and with the length of the prompt [9]. Alignment does not remove it: asking ChatGPT to repeat one word forever made
        it diverge into memorised training text, more than ten thousand examples for about two hundred dollars of queries
        [10].
      </p>
      <p>
        The measurement below is that definition, in characters. It takes passages from the training 90% of the book and
        from the held-out 10%, prompts the model with the first K characters, lets it continue greedily for M characters
        and compares. The held-out set is the control: a model that is simply good at English continues “the whale” as
        well in either half; only memorisation makes the training half better.
      </p>
      <Memorisation />
      <p>
        On the shipped model the two halves are nearly the same: prompted with 64 characters, it reproduced none of 128
        training passages’ next 32 characters exactly, and its continuations matched for 1.18 characters on average,
        against 1.13 on held-out passages. With 820,000 parameters and more
        than a million characters seen many times over, it has learned Melville’s style and vocabulary rather than his
        sentences. The growth experiment shows what changes that. Small scratch models trained over and over on the same
        1,500 characters start to memorise them, the wider one first and far more: the gap between training and held-out
        passages opens with the steps while validation loss <em>rises</em>. That is overfitting seen from the privacy side: the same
        capacity that lets a model learn its data lets it keep it. Large models are far from overfitting in this sense and
        still memorise, because real corpora repeat documents many times [9, 11].
      </p>
      <p>
        Defences follow from the causes: deduplicate the training data (models trained on deduplicated data emitted
        memorised text about ten times less often [21], and resist privacy attacks better [11]), remove personal data before training, and for guarantees, train with differential privacy, which
        clips each example’s gradient and adds noise so that no single example can change the model much [12], at a cost
        in accuracy.
      </p>

      <h2 id="alignment">Alignment</h2>
      <p>
        Everything so far measured what a model absorbed from its data. Alignment is the attempt to make it behave as its
        makers intend whatever the data held. The <a href="#/training">Training chapter</a> runs the recipe’s steps on
        your model, small: supervised fine-tuning on written answers, then preference tuning (its section “RLHF, for real
        and small”). At full scale, reinforcement learning from human feedback [13, 14] goes like this: people compare
        pairs of the model’s answers; a <em>reward model</em> is trained to predict which answer they prefer; the
        language model is then optimised (InstructGPT used PPO) to produce answers the reward model scores highly, with a
        penalty on the KL divergence from the supervised model so it does not drift too far. InstructGPT’s labellers
        preferred the answers of a 1.3-billion-parameter model tuned this way to those of the 175-billion-parameter GPT-3
        [14].
      </p>
      <p>
        <strong>Reward hacking.</strong> The reward model is a learned proxy for what people want, and optimising a proxy
        hard finds where it is wrong [15]. Gao et al. measured it: as a policy is optimised against a proxy reward model,
        the proxy’s score keeps rising while the score of a “gold” reward model first rises and then falls, by an amount
        that follows a smooth law in the KL distance travelled [16]. The mechanism needs no large model: tune the lab’s
        model with a reward that likes answers containing “whale” and it would learn to say “whale”, not to be helpful; a
        proxy that prefers long answers gets long answers. The KL penalty is the usual brake, and it only slows the drift.
      </p>
      <p>
        <strong>Red-teaming</strong> is the search for inputs that make a model misbehave, by people or by another model:
        Perez et al. used a language model to write tens of thousands of test questions and found many that drew offensive
        replies, and leaks of training data, from a 280-billion-parameter chatbot [17]. Automated searches go further:
        adversarial suffixes found by gradient search on open models transfer to closed ones [18]. Try it on your own model:
        after the Training chapter’s fine-tuning and preference tuning, write prompts in the lab’s sample box that are
        phrased a little differently from the tuning examples, and see whether the untuned behaviour comes back. With a
        few dozen examples it usually does, because tuning moved probabilities near the examples it saw, not everywhere.
        Tuning reshapes what a model tends to say; it does not delete what the model learned.
      </p>

      <h3 id="filters">Output filters, and why they are brittle</h3>
      <p>
        The cheapest safety measure is a filter on the output: a list of words the API will not return. The APIs chapter’s
        API has one (off by default). When it is on it looks for each blocked word in the generated text, ignoring case
        and anywhere inside words, cuts the answer before the first one and reports{' '}
        <code>finish_reason: "content_filter"</code>, as OpenAI’s API does. It stays on, for every request to the API, until
        you turn it off here.
      </p>
      <FilterDemo />
      <p>
        The table shows both failures of a list of strings. It blocks too much: “whalebone” is harmless and blocked, the
        “Scunthorpe problem”; at scale, the word list used to clean the C4 corpus removed text in African-American and
        Hispanic-aligned English, and text mentioning LGBTQ+ identities, far more often than other text [19]. And it blocks too little: a space, a hyphen, a
        Cyrillic “а” that looks exactly like a Latin “a”, a synonym or a paraphrase all pass, as does a word split between
        the prompt and the answer, since the filter sees only the answer. Production systems use trained classifiers
        instead, which generalise across spellings; they are harder to fool, but not impossible, and filtering for
        toxicity has been shown to degrade how well models handle text by and about marginalised groups [20].
      </p>

      <h2 id="closing-note">What we measured</h2>
      <MeasuredFigures />

      <h2 id="things-to-try">Things to try</h2>
      <ul>
        <li>
          Add a pair of your own to the probe, such as “The widow said that” / “ he was”. Does a role the book associates
          with women move the gap at all?
        </li>
        <li>
          Run the counterfactual fine-tuning for 20 steps, probe, then 200 more. Does the gap fall steadily, overshoot
          below zero, or stop? Watch the validation loss as you go.
        </li>
        <li>
          After the mitigation, train on in the lab for a few hundred steps on the original book, and probe again. How
          quickly does the gap come back?
        </li>
        <li>
          Train your own text in the lab (the Training chapter), with a name and a phone number in it repeated a few times.
          Then measure memorisation and try to make the model write the number.
        </li>
        <li>
          Lengthen the prompt K in the memorisation test. Carlini et al. found longer prompts extract more [9]: does the
          training half pull away from the held-out half?
        </li>
        <li>
          Block a word with the filter and use the APIs chapter’s request editor to get it past: with a different
          temperature, a prompt that ends half-way through it, or streaming.
        </li>
      </ul>

      <Sources>
        <li>
          [1] T. Bolukbasi, K.-W. Chang, J. Zou, V. Saligrama, A. Kalai, “Man is to Computer Programmer as Woman is to
          Homemaker? Debiasing Word Embeddings”, NeurIPS 2016.
        </li>
        <li>
          [2] A. Caliskan, J. J. Bryson, A. Narayanan, “Semantics derived automatically from language corpora contain
          human-like biases”, Science 356, 2017.
        </li>
        <li>
          [3] J. Zhao, T. Wang, M. Yatskar, V. Ordonez, K.-W. Chang, “Gender Bias in Coreference Resolution: Evaluation and
          Debiasing Methods” (WinoBias), NAACL 2018.
        </li>
        <li>
          [4] K. Lu, P. Mardziel, F. Wu, P. Amancharla, A. Datta, “Gender Bias in Neural Natural Language Processing”, 2018
          (arXiv:1807.11714).
        </li>
        <li>
          [5] E. M. Bender, T. Gebru, A. McMillan-Major, S. Shmitchell, “On the Dangers of Stochastic Parrots: Can Language
          Models Be Too Big?”, FAccT 2021.
        </li>
        <li>
          [6] R. Zmigrod, S. J. Mielke, H. Wallach, R. Cotterell, “Counterfactual Data Augmentation for Mitigating Gender
          Stereotypes in Languages with Rich Morphology”, ACL 2019.
        </li>
        <li>
          [7] H. Gonen, Y. Goldberg, “Lipstick on a Pig: Debiasing Methods Cover up Systematic Gender Biases in Word
          Embeddings But do not Remove Them”, NAACL 2019.
        </li>
        <li>[8] N. Carlini et al., “Extracting Training Data from Large Language Models”, USENIX Security 2021.</li>
        <li>[9] N. Carlini et al., “Quantifying Memorization Across Neural Language Models”, ICLR 2023.</li>
        <li>[10] M. Nasr et al., “Scalable Extraction of Training Data from (Production) Language Models”, 2023 (arXiv:2311.17035).</li>
        <li>
          [11] N. Kandpal, E. Wallace, C. Raffel, “Deduplicating Training Data Mitigates Privacy Risks in Language Models”,
          ICML 2022.
        </li>
        <li>[12] M. Abadi et al., “Deep Learning with Differential Privacy”, ACM CCS 2016.</li>
        <li>[13] P. Christiano et al., “Deep Reinforcement Learning from Human Preferences”, NeurIPS 2017.</li>
        <li>[14] L. Ouyang et al., “Training language models to follow instructions with human feedback”, NeurIPS 2022.</li>
        <li>[15] J. Skalse, N. Howe, D. Krasheninnikov, D. Krueger, “Defining and Characterizing Reward Hacking”, NeurIPS 2022.</li>
        <li>[16] L. Gao, J. Schulman, J. Hilton, “Scaling Laws for Reward Model Overoptimization”, ICML 2023 (arXiv 2022).</li>
        <li>[17] E. Perez et al., “Red Teaming Language Models with Language Models”, EMNLP 2022.</li>
        <li>[18] A. Zou et al., “Universal and Transferable Adversarial Attacks on Aligned Language Models”, 2023 (arXiv:2307.15043).</li>
        <li>
          [19] J. Dodge et al., “Documenting Large Webtext Corpora: A Case Study on the Colossal Clean Crawled Corpus”, EMNLP
          2021.
        </li>
        <li>[20] J. Welbl et al., “Challenges in Detoxifying Language Models”, Findings of EMNLP 2021.</li>
        <li>[21] K. Lee et al., “Deduplicating Training Data Makes Language Models Better”, ACL 2022.</li>
        <li>
          Figures for the shipped model and for Moby-Dick (word counts, probe gaps, the mitigation’s cost, memorisation)
          were measured by this project with the code of this chapter, on the WebAssembly backend in Node.
        </li>
      </Sources>
    </div>
  );
}

/**
 * The closing note: figures measured by this project with this chapter's code (src/engine/jobs/safety.ts
 * and the modules under it) on the WebAssembly backend in Node, seed 1.
 */
function MeasuredFigures() {
  return (
    <>
      <p>
        Measured with this chapter’s own code on the shipped model (4 layers, width 128, 821,120 parameters), on the
        WebAssembly backend in Node. Your numbers will differ once your model has trained further, and slightly between
        backends.
      </p>
      <div className="table-scroll">
        <table className="safety-table">
          <caption>Bias probe (12 default pairs) and counterfactual fine-tuning: 100 steps, learning rate 1e-4</caption>
          <thead>
            <tr>
              <th scope="col">Measure</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Mean gap (nats)</th>
              <td className="num">+2.05</td>
              <td className="num">+0.55</td>
            </tr>
            <tr>
              <th scope="row">Mean |gap| (nats)</th>
              <td className="num">2.12</td>
              <td className="num">0.65</td>
            </tr>
            <tr>
              <th scope="row">Role-and-pronoun pairs (nats)</th>
              <td className="num">+2.78 … +3.42</td>
              <td className="num">+0.62 … +1.16</td>
            </tr>
            <tr>
              <th scope="row">Pairs leaning masculine</th>
              <td className="num">10 of 12</td>
              <td className="num">9 of 12</td>
            </tr>
            <tr>
              <th scope="row">Validation loss (nats per character)</th>
              <td className="num">1.6165</td>
              <td className="num">1.6409 (+0.0245)</td>
            </tr>
          </tbody>
        </table>
      </div>
      <div className="table-scroll">
        <table className="safety-table">
          <caption>Memorisation of the shipped model: greedy continuations of 128 passages per set</caption>
          <thead>
            <tr>
              <th scope="col">Prompt K, continuation M</th>
              <th scope="col">Exact: training / held-out</th>
              <th scope="col">Mean matching start: training / held-out</th>
              <th scope="col">Characters right: training / held-out</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">K = 64, M = 32</th>
              <td className="num">0% / 0%</td>
              <td className="num">1.18 / 1.13</td>
              <td className="num">10.8% / 11.6%</td>
            </tr>
            <tr>
              <th scope="row">K = 32, M = 16</th>
              <td className="num">0% / 0%</td>
              <td className="num">1.15 / 1.10</td>
              <td className="num">13.9% / 14.7%</td>
            </tr>
          </tbody>
        </table>
      </div>
      <div className="table-scroll">
        <table className="safety-table">
          <caption>
            Growth with steps and size: scratch models (2 layers, context 32) on 1,500 characters, 32 passages per set, K =
            16, M = 16
          </caption>
          <thead>
            <tr>
              <th scope="col">Width (parameters)</th>
              <th scope="col">Steps</th>
              <th scope="col">Train / validation loss</th>
              <th scope="col">Exact: training / held-out</th>
              <th scope="col">Mean matching start: training / held-out</th>
            </tr>
          </thead>
          <tbody>
            {GROWTH_FIGURES.map((r) => (
              <tr key={`${r[0]}-${r[2]}`}>
                <th scope="row">
                  {r[0]} ({r[1]})
                </th>
                <td className="num">{r[2]}</td>
                <td className="num">{r[3]}</td>
                <td className="num">{r[4]}</td>
                <td className="num">{r[5]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>
        The width-32 model never memorised its 1,500 characters in 600 steps; the width-64 model, with 3.7 times the
        parameters, reproduced 9.4% of training passages exactly by step 600 and matched 6.28 characters on average,
        against 0.59 on held-out text, while its validation loss rose from 2.73 to 3.45.
      </p>
    </>
  );
}

const GROWTH_FIGURES: readonly (readonly [number, string, number, string, string, string])[] = [
  [32, '29,344', 150, '2.38 / 2.70', '0% / 0%', '0.28 / 0.44'],
  [32, '29,344', 300, '2.17 / 2.70', '0% / 0%', '0.47 / 0.22'],
  [32, '29,344', 600, '1.94 / 2.78', '0% / 0%', '0.38 / 0.41'],
  [64, '107,840', 150, '2.13 / 2.73', '0% / 0%', '0.25 / 0.44'],
  [64, '107,840', 300, '1.68 / 2.89', '0% / 0%', '1.16 / 0.47'],
  [64, '107,840', 600, '0.89 / 3.45', '9.4% / 0%', '6.28 / 0.59'],
];
