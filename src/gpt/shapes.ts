import type { ModelConfig } from './config';

/**
 * Every parameter's PyTorch name and shape, in the order nanoGPT's `GPT` registers them.
 * Linear weights are [out, in] as `nn.Linear` keeps them; `lm_head.weight` is absent (tied to `wte`).
 */
export function parameterShapes(c: ModelConfig): Map<string, number[]> {
  const C = c.width;
  const shapes = new Map<string, number[]>();
  shapes.set('transformer.wte.weight', [c.vocabSize, C]);
  shapes.set('transformer.wpe.weight', [c.contextLength, C]);
  for (let l = 0; l < c.layers; l++) {
    const p = `transformer.h.${l}.`;
    shapes.set(p + 'ln_1.weight', [C]);
    shapes.set(p + 'ln_1.bias', [C]);
    shapes.set(p + 'attn.c_attn.weight', [3 * C, C]);
    shapes.set(p + 'attn.c_attn.bias', [3 * C]);
    shapes.set(p + 'attn.c_proj.weight', [C, C]);
    shapes.set(p + 'attn.c_proj.bias', [C]);
    shapes.set(p + 'ln_2.weight', [C]);
    shapes.set(p + 'ln_2.bias', [C]);
    shapes.set(p + 'mlp.c_fc.weight', [4 * C, C]);
    shapes.set(p + 'mlp.c_fc.bias', [4 * C]);
    shapes.set(p + 'mlp.c_proj.weight', [C, 4 * C]);
    shapes.set(p + 'mlp.c_proj.bias', [C]);
  }
  shapes.set('transformer.ln_f.weight', [C]);
  shapes.set('transformer.ln_f.bias', [C]);
  return shapes;
}
