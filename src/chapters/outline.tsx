import type { ReactNode } from 'react';

/**
 * Shared pieces of the chapter pages while they are outlines: the notice that says so, and the
 * list of sources behind the facts. A chapter's own issue replaces its outline with the chapter.
 */
export function OutlineNote() {
  return (
    <p className="outline-note" role="note">
      <strong>Outline.</strong> This chapter is not written yet: here is what it will teach. Its own issue will fill it
      in; the lab already works on this page.
    </p>
  );
}

export function Sources({ children }: { children: ReactNode }) {
  return (
    <section className="sources" aria-labelledby="sources-title">
      <h2 id="sources-title">Sources</h2>
      <ul>{children}</ul>
    </section>
  );
}
