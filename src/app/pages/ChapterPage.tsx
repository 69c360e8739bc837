import { Suspense, useEffect } from 'react';
import { Link } from 'wouter';
import { CHAPTERS, chapterBySlug } from '../chapters';

/** A chapter: its number and title, its own page (loaded on demand), and the previous/next links. */
export function ChapterPage({ slug }: { slug: string }) {
  const found = chapterBySlug(slug)!;
  const { chapter, index } = found;
  const prev = index > 0 ? CHAPTERS[index - 1] : null;
  const next = index < CHAPTERS.length - 1 ? CHAPTERS[index + 1] : null;
  const { Page } = chapter;

  useEffect(() => {
    document.title = `${chapter.title} — GPT Lab`;
  }, [chapter.title]);

  return (
    <article className="chapter prose">
      <p className="kicker">Chapter {index + 1} of {CHAPTERS.length}</p>
      <h1 tabIndex={-1}>{chapter.title}</h1>
      <Suspense fallback={<p className="muted">Loading the chapter…</p>}>
        <Page />
      </Suspense>
      <nav className="pager" aria-label="Previous and next chapter">
        {prev ? (
          <Link href={`/${prev.slug}`} className="pager-prev" rel="prev">
            <span className="pager-dir">Previous</span> {prev.title}
          </Link>
        ) : (
          <Link href="/" className="pager-prev" rel="prev">
            <span className="pager-dir">Previous</span> Home
          </Link>
        )}
        {next ? (
          <Link href={`/${next.slug}`} className="pager-next" rel="next">
            <span className="pager-dir">Next</span> {next.title}
          </Link>
        ) : (
          <Link href="/" className="pager-next">
            <span className="pager-dir">Back to</span> Home
          </Link>
        )}
      </nav>
    </article>
  );
}
