import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { primeEarlyEvaluation } from './lib/early-evaluation';
import { themeStore } from './lib/theme';

const EARLY_DATA_WAIT_MS = 300;
import './styles.css';
import './researcher.css';
import './compare-batch.css';

// Pins a saved theme choice on <html> before the first render (the CSS alone follows the system).
themeStore();

const root = document.getElementById('root');
if (!root) throw new Error('#root missing from index.html');
// At most a short wait: with a fast CPU on a slow network, "Loading…" beats a blank page.
void primeEarlyEvaluation(EARLY_DATA_WAIT_MS).then(() =>
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
