import './app/app.css';
import './ui/ui.css';
import './app/theme';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { startServiceWorker } from './app/serviceWorker';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The site's Service Worker: the API at v1/ and, where the host sends none, the isolation headers.
startServiceWorker();
