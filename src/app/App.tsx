import { useEffect, useRef } from 'react';
import { Route, Router, Switch, useLocation } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import { CHAPTERS } from './chapters';
import { LabDock } from './lab/LabDock';
import { ChapterPage } from './pages/ChapterPage';
import { Home } from './pages/Home';
import { NotFound } from './pages/NotFound';
import { SiteHeader } from './SiteHeader';
import { useLab } from './store';

/**
 * The shell: header and chapter navigation, the page, and the lab dock on every page. Routes live
 * in the hash (`#/training`) so a deep link survives a reload on any static host; the query string
 * before it carries a shared run (see runUrl.ts).
 */
export function App() {
  useEffect(() => {
    useLab.getState().start();
  }, []);
  return (
    <Router hook={useHashLocation}>
      <Shell />
    </Router>
  );
}

function Shell() {
  const dockOpen = useLab((s) => s.dockOpen);
  return (
    <div className="shell" data-dock={dockOpen ? 'open' : 'closed'}>
      <SiteHeader />
      <main id="main" className="main" tabIndex={-1}>
        <FocusOnNavigate />
        <Switch>
          <Route path="/">
            <Home />
          </Route>
          {CHAPTERS.map((c) => (
            <Route key={c.slug} path={`/${c.slug}`}>
              <ChapterPage slug={c.slug} />
            </Route>
          ))}
          <Route>
            <NotFound />
          </Route>
        </Switch>
      </main>
      <footer className="site-footer">
        <p>
          GPT Lab runs entirely in your browser: the model trains on your own machine, and nothing you type or train is
          sent anywhere.
        </p>
      </footer>
      <LabDock />
    </div>
  );
}

/** After a navigation (not the first load): back to the top, focus on the new page's heading. */
function FocusOnNavigate() {
  const [location] = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    const target = document.querySelector<HTMLElement>('#main h1') ?? document.getElementById('main');
    target?.focus({ preventScroll: true });
  }, [location]);
  return null;
}
