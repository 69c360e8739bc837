import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

/** The guide's chapters, in reading order. Each one's page lives in src/chapters/<slug>/index.tsx. */
export interface Chapter {
  slug: string;
  title: string;
  /** One line: what the chapter is about (home page, previous/next links). */
  summary: string;
  Page: LazyExoticComponent<ComponentType>;
}

export const CHAPTERS: readonly Chapter[] = [
  {
    slug: 'languages',
    title: 'Languages',
    summary: 'Python on top, C++ and GPU kernels underneath: where the time goes.',
    Page: lazy(() => import('../chapters/languages')),
  },
  {
    slug: 'frameworks',
    title: 'Frameworks',
    summary: 'PyTorch, TensorFlow and automatic differentiation: how gradients are computed for you.',
    Page: lazy(() => import('../chapters/frameworks')),
  },
  {
    slug: 'transformers',
    title: 'Transformers',
    summary: 'Tokens, embeddings, self-attention and the block, looked at inside a live model.',
    Page: lazy(() => import('../chapters/transformers')),
  },
  {
    slug: 'training',
    title: 'Training',
    summary: 'Pre-training, fine-tuning and preference tuning, in your browser.',
    Page: lazy(() => import('../chapters/training')),
  },
  {
    slug: 'infrastructure',
    title: 'Infrastructure',
    summary: 'GPUs, TPUs, memory and training across many machines.',
    Page: lazy(() => import('../chapters/infrastructure')),
  },
  {
    slug: 'apis',
    title: 'APIs',
    summary: 'Serving a model: requests, tokens, sampling and streaming.',
    Page: lazy(() => import('../chapters/apis')),
  },
  {
    slug: 'safety',
    title: 'Safety',
    summary: 'Bias, memorisation and alignment, measured on your own model.',
    Page: lazy(() => import('../chapters/safety')),
  },
];

export function chapterBySlug(slug: string): { chapter: Chapter; index: number } | null {
  const index = CHAPTERS.findIndex((c) => c.slug === slug);
  return index < 0 ? null : { chapter: CHAPTERS[index], index };
}
