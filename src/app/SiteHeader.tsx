import { useState, type MouseEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { CHAPTERS } from './chapters';
import { ThemeToggle } from './ThemeToggle';

function skipToContent(e: MouseEvent) {
  e.preventDefault(); // the hash holds the route, so move focus instead of following #main
  const main = document.getElementById('main');
  main?.focus();
  main?.scrollIntoView();
}

/** Site name, the chapters (a menu on a phone) and the theme toggle. */
export function SiteHeader() {
  const [location] = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <header className="site-header">
      <a className="skip-link" href="#main" onClick={skipToContent}>
        Skip to content
      </a>
      <div className="header-inner">
        <Link href="/" className="brand" aria-current={location === '/' ? 'page' : undefined}>
          GPT&nbsp;Lab
        </Link>
        <nav
          className="site-nav"
          aria-label="Chapters"
          onKeyDown={(e) => {
            if (e.key === 'Escape' && menuOpen) {
              setMenuOpen(false);
              document.getElementById('chapters-toggle')?.focus();
            }
          }}
        >
          <button
            type="button"
            id="chapters-toggle"
            className="nav-toggle"
            aria-expanded={menuOpen}
            aria-controls="chapter-list"
            onClick={() => setMenuOpen(!menuOpen)}
          >
            Chapters
          </button>
          <ol id="chapter-list" className="nav-list" data-open={menuOpen}>
            {CHAPTERS.map((c) => {
              const current = location === `/${c.slug}`;
              return (
                <li key={c.slug}>
                  <Link href={`/${c.slug}`} aria-current={current ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
                    {c.title}
                  </Link>
                </li>
              );
            })}
          </ol>
        </nav>
        <ThemeToggle />
      </div>
    </header>
  );
}
