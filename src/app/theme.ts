import { create } from 'zustand';

/**
 * Light or dark. The reader's choice is remembered in localStorage; without one the page follows
 * the system setting, live. index.html applies the same rule before the first paint, so a dark
 * page never flashes light.
 */
export type Theme = 'light' | 'dark';

const STORAGE_KEY = 'gpt-lab-theme';
const darkQuery = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

function storedChoice(): Theme | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null; // storage blocked: follow the system
  }
}

function systemTheme(): Theme {
  return darkQuery?.matches ? 'dark' : 'light';
}

function paint(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

interface ThemeState {
  /** What the reader picked; null follows the system. */
  choice: Theme | null;
  /** The theme on screen. */
  theme: Theme;
  toggle(): void;
}

export const useTheme = create<ThemeState>((set, get) => {
  const choice = storedChoice();
  const theme = choice ?? systemTheme();
  paint(theme);
  darkQuery?.addEventListener('change', () => {
    if (get().choice !== null) return;
    const next = systemTheme();
    paint(next);
    set({ theme: next });
  });
  return {
    choice,
    theme,
    toggle() {
      const next: Theme = get().theme === 'dark' ? 'light' : 'dark';
      try {
        localStorage.setItem(STORAGE_KEY, next);
      } catch {
        // not remembered, still applied
      }
      paint(next);
      set({ choice: next, theme: next });
    },
  };
});
