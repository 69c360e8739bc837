import { useEffect } from 'react';
import { Link, useLocation } from 'wouter';

export function NotFound() {
  const [location] = useLocation();
  useEffect(() => {
    document.title = 'Page not found — GPT Lab';
  }, []);
  return (
    <div className="prose">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is no page at <code>#{location}</code>. It may have moved, or the link may be mistyped.
      </p>
      <p>
        <Link href="/">Go to the home page</Link>, where every chapter is listed.
      </p>
    </div>
  );
}
