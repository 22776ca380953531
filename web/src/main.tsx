import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { themeStore } from './lib/theme';
import './styles.css';

// Pins a saved theme choice on <html> before the first render (the CSS alone follows the system).
themeStore();

const root = document.getElementById('root');
if (!root) throw new Error('#root missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
